"""The public API: what ``medrecord`` exports, and that importing it does no work."""

from __future__ import annotations

import subprocess
import sys

import medrecord


def test_all_is_sorted_and_unique() -> None:
    assert medrecord.__all__ == sorted(set(medrecord.__all__))


def test_all_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(medrecord).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }

    assert public | {"__version__"} == set(medrecord.__all__)


def test_every_export_has_a_docstring() -> None:
    undocumented = [
        name
        for name in medrecord.__all__
        if callable(getattr(medrecord, name)) and not getattr(medrecord, name).__doc__
    ]

    assert undocumented == []


def test_import_loads_no_plugins_or_engines() -> None:
    code = (
        "import sys, medrecord; "
        "loaded = [m for m in sys.modules "
        "if m.startswith('medrecord_departments') or m == 'psycopg']; "
        "print(','.join(loaded))"
    )

    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == ""
