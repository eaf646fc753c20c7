"""A pytest plugin for department authors, registered through the ``pytest11`` entry point.

It adds two fixtures: ``medrecord_registry``, the registry of the installed departments, and
``medrecord_department_conformance``, a function that returns what is wrong with a
department (see :func:`medrecord.testing.conformance.check_department`). Nothing is
loaded until a test requests a fixture.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from medrecord.departments.department import Department
from medrecord.departments.registry import DepartmentRegistry, load_departments
from medrecord.testing.conformance import check_department


@pytest.fixture(scope="session")
def medrecord_registry() -> DepartmentRegistry:
    """Load the registry of every installed department plugin, in strict mode."""
    return load_departments(strict=True)


@pytest.fixture
def medrecord_department_conformance(
    medrecord_registry: DepartmentRegistry,
) -> Callable[[Department], list[str]]:
    """A function returning the conformance failures of a registered department."""

    def check(department: Department) -> list[str]:
        return check_department(department, medrecord_registry)

    return check
