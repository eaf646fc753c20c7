"""Departments: their description, the plugin manager and the registry."""

from medrecord.departments.department import REQUIRED_LOCALES, Department
from medrecord.departments.registry import (
    ENTRY_POINT_GROUP,
    DepartmentRegistry,
    build_plugin_manager,
    load_departments,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "REQUIRED_LOCALES",
    "Department",
    "DepartmentRegistry",
    "build_plugin_manager",
    "load_departments",
]
