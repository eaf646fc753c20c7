"""Collecting the legacy mappers that department plugins provide."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import ConfigurationError, LegacyMigrationError
from medrecord.legacy.mapping import LegacyMapper

__all__ = ["legacy_mappers", "select_mappers"]

logger = logging.getLogger(__name__)


def legacy_mappers(registry: DepartmentRegistry) -> dict[str, LegacyMapper]:
    """Return the legacy mappers of the registered plugins by name, in name order.

    Raises :class:`LegacyMigrationError` when a plugin returns something other than a
    mapper, when two mappers share a name or a table, or when a mapper's department is
    not registered.
    """
    by_name: dict[str, LegacyMapper] = {}
    tables: dict[str, str] = {}

    for provided in registry.plugin_manager.hook.medrecord_legacy_mappers():
        for mapper in provided or ():
            if not isinstance(mapper, LegacyMapper):
                raise LegacyMigrationError(
                    f"medrecord_legacy_mappers returned {type(mapper).__name__}, not "
                    "LegacyMapper; return LegacyMapper objects"
                )
            if mapper.name in by_name:
                raise LegacyMigrationError(
                    f"two legacy mappers are named {mapper.name!r}; give each a unique name"
                )
            if mapper.table_name in tables:
                raise LegacyMigrationError(
                    f"legacy table {mapper.table_name!r} has two mappers, "
                    f"{tables[mapper.table_name]!r} and {mapper.name!r}; uninstall or block one "
                    "of their plugins"
                )
            if mapper.department not in registry.departments:
                raise LegacyMigrationError(
                    f"legacy mapper {mapper.name!r} maps to department {mapper.department!r}, "
                    f"which is not registered; registered departments: {', '.join(registry.codes)}"
                )
            by_name[mapper.name] = mapper
            tables[mapper.table_name] = mapper.name

    logger.debug("found %d legacy mapper(s)", len(by_name))
    return dict(sorted(by_name.items()))


def select_mappers(
    mappers: dict[str, LegacyMapper], only: Sequence[str] | None
) -> list[LegacyMapper]:
    """Return the mappers named in ``only``, or all of them when it is None or empty."""
    if not only:
        return list(mappers.values())

    unknown = [name for name in only if name not in mappers]
    if unknown:
        raise ConfigurationError(
            f"unknown legacy source {unknown[0]!r}; installed sources: "
            f"{', '.join(mappers) or 'none'}"
        )
    return [mappers[name] for name in dict.fromkeys(only)]
