"""Hook specifications of medrecord department plugins.

A department plugin is a module or object with functions marked by :data:`hookimpl`, found
through the entry-point group ``medrecord.departments``::

    from medrecord import Department, hookimpl

    @hookimpl
    def medrecord_department() -> Department:
        return Department(code="pediatrics", event_agent_type="pedia", ...)

Every hook is named ``medrecord_*``. Plugins may implement any subset of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from medrecord.departments.department import Department
    from medrecord.legacy.mapping import LegacyMapper
    from medrecord.models.medical_event import MedicalEvent

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "medrecord"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def medrecord_department() -> Department:
    """Describe the department this plugin provides.

    Called once for each plugin when the department registry is built, before any session
    is read. Return a :class:`~medrecord.departments.Department`. Its code and aliases must
    not clash with another plugin's: a clash stops start-up with an error naming both
    plugins. Every implementation is called and every result is registered.
    """


@hookspec
def medrecord_record_context(
    department: Department, event: MedicalEvent, locale: str
) -> Mapping[str, Any] | None:
    """Add variables to the context of a record template.

    Called each time an event is rendered, with the event's department, the event and the
    requested locale (``"zh-CN"`` or ``"en"``). Return a mapping of extra template
    variables, or None to add nothing; a plugin should check ``department.code`` and add
    only to its own department's records. Every implementation is called; when two
    return the same key, the plugin registered later wins. The variables are available in
    templates under ``extra``.
    """


@hookspec
def medrecord_legacy_mappers() -> Sequence[LegacyMapper] | None:
    """Provide mappers that migrate a legacy per-department table into unified sessions.

    Called when a legacy migration, verification or retirement starts. Return
    :class:`~medrecord.legacy.LegacyMapper` objects for the tables this plugin's department
    used before the unified model, or None. Each mapper's ``name`` and table must be unique
    across plugins, and its ``department`` must be a registered department code.
    """
