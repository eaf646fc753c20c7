"""Building the plugin manager and the registry of departments."""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from medrecord import hookspecs
from medrecord.departments.department import Department
from medrecord.errors import DuplicateDepartmentError, PluginLoadError, UnknownDepartmentError

__all__ = [
    "BLOCK_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "STRICT_PLUGINS_ENV",
    "TRACE_HOOKS_ENV",
    "DepartmentRegistry",
    "build_plugin_manager",
    "load_departments",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "medrecord.departments"
BLOCK_PLUGINS_ENV = "MEDRECORD_BLOCK_PLUGINS"
"""Comma-separated entry-point names of plugins not to load."""
STRICT_PLUGINS_ENV = "MEDRECORD_STRICT_PLUGINS"
"""Set to 1 to re-raise plugin load failures instead of reporting and skipping them."""
TRACE_HOOKS_ENV = "MEDRECORD_TRACE_HOOKS"
"""Set to 1 to log every hook call at DEBUG level."""


def build_plugin_manager(
    *,
    plugins: Iterable[tuple[str, object]] = (),
    entry_points: bool = True,
    blocked: Iterable[str] | None = None,
    strict: bool | None = None,
    failures: list[PluginLoadError] | None = None,
) -> pluggy.PluginManager:
    """Build a plugin manager with the hook specifications and the department plugins.

    ``plugins`` are ``(name, plugin)`` pairs registered first, then every entry point of
    the group ``medrecord.departments`` unless ``entry_points`` is False. Names in
    ``blocked`` (default: ``MEDRECORD_BLOCK_PLUGINS``) are skipped. A plugin that fails to
    import or register is logged with its name and appended to ``failures``. With
    ``strict`` (default: ``MEDRECORD_STRICT_PLUGINS``) the error is raised instead.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    strict = _env_flag(STRICT_PLUGINS_ENV) if strict is None else strict
    failures = [] if failures is None else failures

    for name in _blocked_names(blocked):
        manager.set_blocked(name)

    for name, plugin in plugins:
        _register(manager, name, lambda plugin=plugin: plugin, strict, failures)

    if entry_points:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if manager.is_blocked(entry_point.name):
                logger.info("department plugin %s is blocked", entry_point.name)
                continue
            _register(manager, entry_point.name, entry_point.load, strict, failures)

    manager.check_pending()

    if _env_flag(TRACE_HOOKS_ENV):
        manager.trace.root.setwriter(logger.debug)
        manager.enable_tracing()

    return manager


def _register(
    manager: pluggy.PluginManager,
    name: str,
    load: Any,
    strict: bool,
    failures: list[PluginLoadError],
) -> None:
    if manager.get_plugin(name) is not None or manager.is_blocked(name):
        return

    try:
        manager.register(load(), name=name)
    except Exception as error:
        failure = PluginLoadError(name, f"{type(error).__name__}: {error}")
        if strict:
            raise failure from error
        logger.error(
            "department plugin %s failed to load and was skipped: %s", name, failure.reason
        )
        failures.append(failure)


def _blocked_names(blocked: Iterable[str] | None) -> list[str]:
    if blocked is not None:
        return list(blocked)
    raw = os.environ.get(BLOCK_PLUGINS_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class DepartmentRegistry:
    """The registered departments, looked up by code or alias.

    ``fallback`` names the department used for unknown codes; it is None unless the
    deployment configures one, so by default an unknown code is an error.
    """

    plugin_manager: pluggy.PluginManager
    departments: dict[str, Department]
    plugin_names: dict[str, str]
    fallback: str | None = None
    failures: list[PluginLoadError] = field(default_factory=list)
    _names: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._names = {}
        for code, department in self.departments.items():
            for name in department.names:
                self._names[name.strip().casefold()] = code

        if self.fallback is not None and self.fallback not in self.departments:
            raise UnknownDepartmentError(self.fallback, self.codes)

    @property
    def codes(self) -> list[str]:
        """The registered department codes, sorted."""
        return sorted(self.departments)

    def __iter__(self) -> Iterator[Department]:
        return iter(self.departments[code] for code in self.codes)

    def __len__(self) -> int:
        return len(self.departments)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().casefold() in self._names

    def find(self, name: str) -> Department | None:
        """Return the department whose code or alias is ``name``, or None."""
        code = self._names.get(name.strip().casefold())
        return self.departments[code] if code is not None else None

    def resolve(self, name: str) -> Department:
        """Return the department for a code or alias.

        Unknown names fall back to the configured fallback department, if any; otherwise
        :class:`UnknownDepartmentError` lists the registered codes.
        """
        department = self.find(name)
        if department is not None:
            return department

        if self.fallback is not None:
            logger.warning(
                "unknown department code %r filed under fallback %s", name, self.fallback
            )
            return self.departments[self.fallback]

        raise UnknownDepartmentError(name, self.codes)

    def plugin_of(self, code: str) -> str:
        """Return the name of the plugin that provides a department."""
        return self.plugin_names[code]


def load_departments(
    plugin_manager: pluggy.PluginManager | None = None,
    *,
    fallback: str | None = None,
    strict: bool | None = None,
    plugins: Sequence[tuple[str, object]] = (),
    entry_points: bool = True,
) -> DepartmentRegistry:
    """Build the department registry from the installed plugins.

    Builds a plugin manager with :func:`build_plugin_manager` unless one is passed, then
    calls every plugin's ``medrecord_department`` hook. Two plugins claiming one code or alias raise
    :class:`DuplicateDepartmentError` naming both, in every mode. A plugin whose hook fails
    or returns something other than a :class:`Department` is reported and skipped, or
    raised with ``strict``.
    """
    strict = _env_flag(STRICT_PLUGINS_ENV) if strict is None else strict
    failures: list[PluginLoadError] = []
    if plugin_manager is None:
        plugin_manager = build_plugin_manager(
            plugins=plugins, entry_points=entry_points, strict=strict, failures=failures
        )

    departments: dict[str, Department] = {}
    plugin_names: dict[str, str] = {}
    claimed: dict[str, str] = {}

    for implementation in plugin_manager.hook.medrecord_department.get_hookimpls():
        plugin_name = implementation.plugin_name
        department = _describe(implementation.function, plugin_name, strict, failures)
        if department is None:
            continue

        for name in department.names:
            key = name.strip().casefold()
            if key in claimed and claimed[key] != plugin_name:
                raise DuplicateDepartmentError(name, claimed[key], plugin_name)
            claimed[key] = plugin_name

        departments[department.code] = department
        plugin_names[department.code] = plugin_name

    logger.info(
        "registered %d department(s), %d plugin failure(s)", len(departments), len(failures)
    )
    return DepartmentRegistry(
        plugin_manager=plugin_manager,
        departments=departments,
        plugin_names=plugin_names,
        fallback=fallback,
        failures=failures,
    )


def _describe(
    hook: Any, plugin_name: str, strict: bool, failures: list[PluginLoadError]
) -> Department | None:
    try:
        department = hook()
        if not isinstance(department, Department):
            raise TypeError(
                f"medrecord_department returned {type(department).__name__}, not Department"
            )
    except Exception as error:
        failure = PluginLoadError(plugin_name, f"{type(error).__name__}: {error}")
        if strict:
            raise failure from error
        logger.error(
            "department plugin %s failed to describe its department: %s",
            plugin_name,
            failure.reason,
        )
        failures.append(failure)
        return None
    return department
