"""General practice (全科): any complaint, with the conditions the agent considers."""

from __future__ import annotations

from collections.abc import Sequence

from medrecord import Department, hookimpl
from medrecord.legacy import LegacyMapper
from medrecord_departments.general.legacy import DIAGNOSIS_SESSIONS_MAPPER
from medrecord_departments.general.state import GeneralState

__all__ = [
    "DEPARTMENT",
    "DIAGNOSIS_SESSIONS_MAPPER",
    "GeneralState",
    "medrecord_department",
    "medrecord_legacy_mappers",
]

DEPARTMENT = Department(
    code="general",
    event_agent_type="general",
    display_names={"zh-CN": "全科", "en": "General Practice"},
    # Clients of the legacy diagnosis_sessions endpoints call this department "diagnosis".
    aliases=("diagnosis", "general-practice", "gp", "全科", "全科医学科"),
    state_schema=GeneralState,
    template_package=__name__,
    description={
        "zh-CN": "常见不适的综合问诊，给出可能的疾病及就诊科室建议。",
        "en": (
            "Intake for common complaints of any kind, with possible conditions and the "
            "department to visit."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the general practice department."""
    return DEPARTMENT


@hookimpl
def medrecord_legacy_mappers() -> Sequence[LegacyMapper]:
    """Provide the mapper of the legacy ``diagnosis_sessions`` table."""
    return [DIAGNOSIS_SESSIONS_MAPPER]
