"""Printing results: rich tables, JSON, files and one-line errors."""

import json
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from medrecord.records import LABELS

__all__ = ["cell", "fail", "print_json", "print_table", "risk_label", "warn", "write_text_file"]


def fail(message: str) -> NoReturn:
    """Print an error as one line on standard error and exit with status 1."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def warn(message: str) -> None:
    """Print a warning as one line on standard error."""
    typer.echo(f"warning: {message}", err=True)


def print_json(data: Any) -> None:
    """Print data as indented JSON with non-ASCII text kept readable."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


PIPE_WIDTH = 200
"""Width of tables written to a file or pipe, where no terminal width limits the rows."""


def print_table(table: Table) -> None:
    """Print a rich table on standard output, folding long cells instead of cutting them."""
    for column in table.columns:
        column.overflow = "fold"

    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPE_WIDTH)
    console.print(table)


def cell(value: object) -> Text:
    """Return a table cell that shows the value as plain text, never as rich markup."""
    return Text("" if value is None else str(value))


def risk_label(level: str | None) -> str:
    """Return a risk level in Chinese and English, or "未评估 / not assessed" when absent."""
    if level is None:
        return f"{LABELS['zh-CN']['not_assessed']} / {LABELS['en']['not_assessed']}"

    key = f"risk.{level}"
    if key not in LABELS["en"]:
        return level
    return f"{LABELS['zh-CN'][key]} / {LABELS['en'][key]}"


def not_provided_label() -> str:
    """Return "未提供 / not provided", shown where a session did not give a value."""
    return f"{LABELS['zh-CN']['not_provided']} / {LABELS['en']['not_provided']}"


def write_text_file(path: Path, text: str) -> None:
    """Write UTF-8 text to a file; a failure is a one-line error with exit status 1."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {str(path)!r}: {error.strerror or error}")
