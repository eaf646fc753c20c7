"""The documentation's code runs: every script and test file in docs/examples/, every snippet.

Scripts run in a subprocess with this interpreter, from the repository root, as a reader
would run them, and their output must contain the lines the pages show. Files named
``test_*.py`` in docs/examples/ are test files for department authors and run under pytest.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

import medrecord
from medrecord.cli import app

REPOSITORY = Path(__file__).resolve().parent.parent
DOCS = REPOSITORY / "docs"
EXAMPLES = DOCS / "examples"

SCRIPT_TIMEOUT_SECONDS = 120

# Lines each script must print. A new script in docs/examples/ needs an entry here.
EXPECTED_OUTPUT = {
    "first_use.py": [
        '"is_new_event": true',
        '"risk_level": "medium"',
        '"message_count": 4',
        "event day: 2026-11-20",
        "## 主诉\n\n左手背红疹伴瘙痒三天",
        "- 否认：发热",
        "- 风险评估：中",
        "- 接触性皮炎（可能性 60%）",
        "- 2026-11-20 07:30 患者：左手背起了红疹，很痒，已经三天了。",
    ],
    "department_plugin.py": [
        "resolved: ophthalmology ophth",
        "conformance failures: []",
        "affected eye: left",
        "risk level: high",
        "problems: [('vision_change', 'Input should be a valid string')]",
        "- 患眼：左眼",
        "- 风险评估：未评估",
        "- Affected eye: left eye",
        "## Examinations\n\nnot provided",
    ],
}

# Options that every command takes, documented once at the top of the CLI reference.
COMMON_OPTIONS = {"--db", "--tz", "--verbose", "-v", "--help"}

SNIPPET = re.compile(r'^\s*-{1,}8<-{1,}\s+"([^"]+)"', re.MULTILINE)


def example_scripts() -> list[Path]:
    return sorted(path for path in EXAMPLES.glob("*.py") if not path.name.startswith("test_"))


def example_test_files() -> list[Path]:
    return sorted(EXAMPLES.glob("test_*.py"))


def run_python(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=SCRIPT_TIMEOUT_SECONDS,
        check=False,
    )


def test_every_script_has_expected_output() -> None:
    names = {path.name for path in example_scripts()}

    assert names == set(EXPECTED_OUTPUT)


@pytest.mark.parametrize("script", example_scripts(), ids=lambda path: path.name)
def test_example_script_output(script: Path) -> None:
    completed = run_python(str(script.relative_to(REPOSITORY)))

    assert completed.returncode == 0, completed.stderr
    for line in EXPECTED_OUTPUT[script.name]:
        assert line in completed.stdout


@pytest.mark.parametrize("test_file", example_test_files(), ids=lambda path: path.name)
def test_example_test_file_passes(test_file: Path) -> None:
    completed = run_python(
        "-m", "pytest", str(test_file.relative_to(REPOSITORY)), "-q", "-p", "no:cacheprovider"
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout


def test_snippet_paths_exist() -> None:
    included = [
        (page, target)
        for page in DOCS.rglob("*.md")
        for target in SNIPPET.findall(page.read_text(encoding="utf-8"))
    ]

    assert included
    for page, target in included:
        assert (REPOSITORY / target).is_file(), f"{page.relative_to(REPOSITORY)} includes {target}"


def test_reference_lists_public_api() -> None:
    page = (DOCS / "reference" / "medrecord.md").read_text(encoding="utf-8")

    for name in medrecord.__all__:
        assert f"`{name}`" in page, f"docs/reference/medrecord.md does not list {name}"


def test_cli_reference_lists_every_option() -> None:
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    sections = dict(
        section.split("\n", 1) for section in page.split("\n## ")[1:] if "\n" in section
    )
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)

    for option in COMMON_OPTIONS - {"-v"}:
        assert f"`{option}" in sections["Options of every command"]
    for name, command in group.commands.items():
        assert name in sections, f"docs/reference/cli.md has no section '## {name}'"
        for parameter in command.params:
            for option in set(parameter.opts) - COMMON_OPTIONS:
                if option.startswith("-"):
                    assert f"`{option}" in sections[name], f"{name} {option} is not documented"
