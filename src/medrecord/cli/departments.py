"""``medrecord departments``: list the registered departments."""

from typing import Annotated, Any

import typer
from rich.table import Table

from medrecord.cli.options import DatabaseOption, TimeZoneOption, VerboseOption, resolve_options
from medrecord.cli.output import cell, print_json, print_table
from medrecord.cli.runtime import load_registry
from medrecord.departments import REQUIRED_LOCALES, Department, DepartmentRegistry

__all__ = ["departments"]


def departments(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list instead of a table.")
    ] = False,
    db: DatabaseOption = None,
    tz: TimeZoneOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the departments of the installed plugins.

    A plugin that fails to load is reported on standard error with its name.
    """
    resolve_options(ctx, db=db, tz=tz, verbose=verbose)
    registry = load_registry()

    if as_json:
        print_json([_department_json(department, registry) for department in registry])
        return

    table = Table(title="Departments")
    for heading in ("Code", "Event agent type", "zh-CN", "en", "Aliases", "Plugin"):
        table.add_column(heading)
    for department in registry:
        table.add_row(
            cell(department.code),
            cell(department.event_agent_type),
            cell(department.display_names["zh-CN"]),
            cell(department.display_names["en"]),
            cell(", ".join(department.aliases)),
            cell(registry.plugin_of(department.code)),
        )
    print_table(table)


def _department_json(department: Department, registry: DepartmentRegistry) -> dict[str, Any]:
    return {
        "code": department.code,
        "event_agent_type": department.event_agent_type,
        "display_names": {locale: department.display_names[locale] for locale in REQUIRED_LOCALES},
        "aliases": list(department.aliases),
        "plugin": registry.plugin_of(department.code),
    }
