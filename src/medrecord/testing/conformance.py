"""Checks that a department plugin keeps the contract the library relies on."""

from __future__ import annotations

from medrecord.departments.department import REQUIRED_LOCALES, Department
from medrecord.departments.registry import DepartmentRegistry
from medrecord.state import read_agent_state

__all__ = ["check_department"]


def check_department(department: Department, registry: DepartmentRegistry) -> list[str]:
    """Return what is wrong with a registered department; an empty list means it conforms.

    Checks that every name resolves to the department, that each required locale has a
    display name, that an empty state reads without problems and keeps unknown keys, and
    that the schema does not invent a risk level.
    """
    failures: list[str] = []

    for name in department.names:
        resolved = registry.find(name)
        if resolved is None or resolved.code != department.code:
            failures.append(f"name {name!r} does not resolve to department {department.code!r}")

    for locale in REQUIRED_LOCALES:
        if not department.display_names.get(locale):
            failures.append(f"department {department.code!r} has no {locale} display name")

    empty = read_agent_state({}, department.state_schema)
    if empty.problems:
        failures.append(f"an empty state of {department.code!r} reports problems: {empty.problems}")
    if empty.state.risk_level is not None:
        failures.append(
            f"an empty state of {department.code!r} has risk level {empty.state.risk_level}"
        )

    kept = read_agent_state({"x_unknown_key": 1}, department.state_schema)
    if (kept.state.model_extra or {}).get("x_unknown_key") != 1:
        failures.append(f"the state schema of {department.code!r} drops unknown keys")

    return failures
