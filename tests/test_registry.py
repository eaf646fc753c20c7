"""Department registry: entry points, conflicts, broken plugins, unknown codes."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from medrecord import (
    Department,
    DuplicateDepartmentError,
    PluginLoadError,
    UnknownDepartmentError,
    hookimpl,
    load_departments,
)
from medrecord.departments.registry import BLOCK_PLUGINS_ENV, STRICT_PLUGINS_ENV


def department_plugin(code: str, *aliases: str) -> SimpleNamespace:
    department = Department(
        code=code,
        event_agent_type=code[:6],
        display_names={"zh-CN": f"{code}科", "en": code.title()},
        aliases=aliases,
    )

    @hookimpl
    def medrecord_department() -> Department:
        return department

    return SimpleNamespace(medrecord_department=medrecord_department)


def install_entry_points(root: Path, entries: dict[str, str], modules: dict[str, str]) -> None:
    """Write a distribution with department entry points, and its modules, under root."""
    dist_info = root / "fake_departments-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-departments\nVersion: 1.0\n"
    )
    lines = "\n".join(f"{name} = {target}" for name, target in entries.items())
    (dist_info / "entry_points.txt").write_text(f"[medrecord.departments]\n{lines}\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


GOOD_MODULE = """
    from medrecord import Department, hookimpl

    @hookimpl
    def medrecord_department():
        return Department(
            code="geriatrics",
            event_agent_type="geri",
            display_names={"zh-CN": "老年科", "en": "Geriatrics"},
        )
"""


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for fake plugin distributions."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(STRICT_PLUGINS_ENV, raising=False)
    monkeypatch.delenv(BLOCK_PLUGINS_ENV, raising=False)
    return tmp_path


def test_built_in_departments_load_from_entry_points() -> None:
    registry = load_departments(strict=True)

    assert {"dermatology", "general"} <= set(registry.codes)
    assert registry.failures == []


def test_unknown_code_lists_registered_codes() -> None:
    registry = load_departments(
        plugins=[("a", department_plugin("alpha")), ("b", department_plugin("beta"))],
        entry_points=False,
    )

    with pytest.raises(UnknownDepartmentError) as raised:
        registry.resolve("dentistry")

    assert raised.value.code == "dentistry"
    assert raised.value.registered == ("alpha", "beta")
    assert "alpha, beta" in str(raised.value)


def test_alias_resolves_case_insensitively() -> None:
    registry = load_departments(
        plugins=[("a", department_plugin("alpha", "Al", "阿"))], entry_points=False
    )

    assert registry.resolve(" AL ").code == "alpha"
    assert registry.resolve("阿").code == "alpha"
    assert "al" in registry


def test_duplicate_code_names_both_plugins() -> None:
    plugins = [
        ("first-plugin", department_plugin("alpha")),
        ("second-plugin", department_plugin("alpha")),
    ]

    with pytest.raises(DuplicateDepartmentError) as raised:
        load_departments(plugins=plugins, entry_points=False)

    assert raised.value.first_plugin == "first-plugin"
    assert raised.value.second_plugin == "second-plugin"
    assert "first-plugin" in str(raised.value)
    assert "second-plugin" in str(raised.value)


def test_alias_clashing_with_other_code_fails() -> None:
    plugins = [("one", department_plugin("alpha")), ("two", department_plugin("beta", "ALPHA"))]

    with pytest.raises(DuplicateDepartmentError) as raised:
        load_departments(plugins=plugins, entry_points=False)

    assert raised.value.name == "ALPHA"


def test_duplicate_fails_even_when_not_strict() -> None:
    plugins = [("one", department_plugin("alpha", "x")), ("two", department_plugin("beta", "x"))]

    with pytest.raises(DuplicateDepartmentError):
        load_departments(plugins=plugins, entry_points=False, strict=False)


def test_broken_plugin_is_reported_and_others_load(
    fake_plugins: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install_entry_points(
        fake_plugins,
        {"broken-dept": "broken_department_module", "geriatrics": "good_department_module"},
        {
            "broken_department_module": "raise ImportError('no module named torch')",
            "good_department_module": GOOD_MODULE,
        },
    )

    with caplog.at_level(logging.ERROR):
        registry = load_departments()

    assert "geriatrics" in registry.codes
    assert "dermatology" in registry.codes
    assert [failure.plugin for failure in registry.failures] == ["broken-dept"]
    assert "no module named torch" in registry.failures[0].reason
    assert "broken-dept" in caplog.text


def test_broken_plugin_raises_in_strict_mode(
    fake_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_entry_points(
        fake_plugins, {"broken-dept": "broken_strict_module"}, {"broken_strict_module": "1 / 0"}
    )
    monkeypatch.setenv(STRICT_PLUGINS_ENV, "1")

    with pytest.raises(PluginLoadError) as raised:
        load_departments()

    assert raised.value.plugin == "broken-dept"
    assert "ZeroDivisionError" in raised.value.reason


def test_hook_returning_wrong_type_is_reported() -> None:
    @hookimpl
    def medrecord_department() -> object:
        return {"code": "alpha"}

    registry = load_departments(
        plugins=[("wrong", SimpleNamespace(medrecord_department=medrecord_department))],
        entry_points=False,
    )

    assert registry.codes == []
    assert registry.failures[0].plugin == "wrong"
    assert "dict" in registry.failures[0].reason


def test_blocked_plugin_is_not_loaded(fake_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(
        fake_plugins, {"geriatrics": "blocked_good_module"}, {"blocked_good_module": GOOD_MODULE}
    )
    monkeypatch.setenv(BLOCK_PLUGINS_ENV, "geriatrics, cardiology")

    registry = load_departments()

    assert "geriatrics" not in registry.codes
    assert "cardiology" not in registry.codes
    assert "dermatology" in registry.codes


def test_fallback_only_when_configured() -> None:
    plugins = [("a", department_plugin("alpha")), ("g", department_plugin("general"))]

    strict_registry = load_departments(plugins=plugins, entry_points=False)
    fallback_registry = load_departments(plugins=plugins, entry_points=False, fallback="general")

    with pytest.raises(UnknownDepartmentError):
        strict_registry.resolve("unknown")
    assert fallback_registry.resolve("unknown").code == "general"


def test_fallback_must_be_registered() -> None:
    with pytest.raises(UnknownDepartmentError) as raised:
        load_departments(
            plugins=[("a", department_plugin("alpha"))], entry_points=False, fallback="general"
        )

    assert raised.value.code == "general"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "Bad Code"}, "invalid department code"),
        ({"display_names": {"zh-CN": "科"}}, r"no display name for locale\(s\) en"),
        ({"event_agent_type": ""}, "invalid event_agent_type"),
        ({"state_schema": dict}, "must be a subclass of AgentState"),
    ],
    ids=["code", "missing-locale", "event-type", "schema"],
)
def test_invalid_department_is_rejected(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "code": "alpha",
        "event_agent_type": "alpha",
        "display_names": {"zh-CN": "阿尔法科", "en": "Alpha"},
    }
    fields.update(changes)

    with pytest.raises(ValueError, match=message):
        Department(**fields)  # type: ignore[arg-type]
