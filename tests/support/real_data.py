"""Access to the shared real dialogue datasets and to the converters in examples/converters.

The data files are never copied into the repository: tests read them from the folder named
by ``MEDRECORD_REAL_DATA_DIR``, by default ``../shared/data/real`` beside the repository
root. When the folder or a file is missing, a test skips with the reason, except when the
environment variable CI is "true": then it fails, because CI always provides the folder.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

__all__ = [
    "CONVERTERS_DIR",
    "DEFAULT_REAL_DATA_DIR",
    "IMCS21_LABELED",
    "IMCS21_UNLABELED",
    "MTS_DIALOG",
    "REAL_DATA_ENV",
    "import_converter",
    "read_records",
    "real_data_file",
]

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
CONVERTERS_DIR = REPOSITORY_ROOT / "examples" / "converters"

REAL_DATA_ENV = "MEDRECORD_REAL_DATA_DIR"
DEFAULT_REAL_DATA_DIR = REPOSITORY_ROOT.parent / "shared" / "data" / "real"

IMCS21_LABELED = "imcs21_zh_labeled.jsonl"
IMCS21_UNLABELED = "imcs21_zh_unlabeled.jsonl"
MTS_DIALOG = "mts_dialog_en.jsonl"


def real_data_file(name: str) -> Path:
    """Return the path of a shared data file, or skip (fail under CI=true) when it is missing."""
    folder = Path(os.environ.get(REAL_DATA_ENV) or DEFAULT_REAL_DATA_DIR)
    path = folder / name
    if path.is_file():
        return path

    reason = (
        f"real dialogue file {name} not found in {folder}; set {REAL_DATA_ENV} to the folder "
        "of the shared real dialogue datasets"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, but {reason}", pytrace=False)
    pytest.skip(reason)


def read_records(name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Read the records of a shared JSON Lines file, the first ``limit`` ones if given."""
    records: list[dict[str, Any]] = []
    with real_data_file(name).open(encoding="utf-8") as stream:
        for line in stream:
            if limit is not None and len(records) >= limit:
                break
            if line.strip():
                records.append(json.loads(line))
    return records


def import_converter(name: str) -> ModuleType:
    """Import a converter module of examples/converters, which are scripts, not a package.

    The folder goes on ``sys.path`` because the converters import their shared module
    ``import_format`` as a top-level module, as they do when run as scripts.
    """
    folder = str(CONVERTERS_DIR)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)
