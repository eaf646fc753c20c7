"""Ophthalmology (眼科): a small department plugin used by the documentation.

A package of its own would register it in its pyproject.toml::

    [project.entry-points."medrecord.departments"]
    ophthalmology = "medrecord_ophthalmology"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from medrecord import Department, LegacyMapper, MedicalEvent, hookimpl
from medrecord_ophthalmology.legacy import EYE_SESSIONS_MAPPER
from medrecord_ophthalmology.state import Eye, OphthalmologyState

__all__ = [
    "DEPARTMENT",
    "medrecord_department",
    "medrecord_legacy_mappers",
    "medrecord_record_context",
]

DEPARTMENT = Department(
    code="ophthalmology",
    event_agent_type="ophth",
    display_names={"zh-CN": "眼科", "en": "Ophthalmology"},
    aliases=("eye", "眼科"),
    state_schema=OphthalmologyState,
    template_package=__name__,
    description={
        "zh-CN": "视力下降、眼红、眼痛等眼部问题的问诊。",
        "en": "Intake for blurred vision, red eyes, eye pain and other eye problems.",
    },
)

EYE_NAMES: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {Eye.LEFT: "左眼", Eye.RIGHT: "右眼", Eye.BOTH: "双眼"},
    "en": {Eye.LEFT: "left eye", Eye.RIGHT: "right eye", Eye.BOTH: "both eyes"},
}


@hookimpl
def medrecord_department() -> Department:
    """Provide the ophthalmology department."""
    return DEPARTMENT


@hookimpl
def medrecord_record_context(
    department: Department, event: MedicalEvent, locale: str
) -> Mapping[str, Any] | None:
    """Give this department's templates the names of the eyes in the record's locale."""
    if department.code != DEPARTMENT.code:
        return None
    return {"eye_names": EYE_NAMES[locale]}


@hookimpl
def medrecord_legacy_mappers() -> Sequence[LegacyMapper]:
    """Provide the mapper of the legacy ``eye_sessions`` table."""
    return [EYE_SESSIONS_MAPPER]
