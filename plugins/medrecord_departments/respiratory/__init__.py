"""Respiratory medicine (呼吸科): cough, fever, breathlessness and other chest complaints."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.respiratory.state import RespiratoryState

__all__ = ["DEPARTMENT", "RespiratoryState", "medrecord_department"]

DEPARTMENT = Department(
    code="respiratory",
    event_agent_type="respiratory",
    display_names={"zh-CN": "呼吸科", "en": "Respiratory Medicine"},
    aliases=("pulmonology", "respiratory-medicine", "呼吸科", "呼吸内科"),
    state_schema=RespiratoryState,
    template_package=__name__,
    description={
        "zh-CN": "咳嗽、咳痰、发热、气短等呼吸系统问题的问诊，可记录体温和血氧饱和度。",
        "en": (
            "Intake for cough, sputum, fever, shortness of breath and other breathing "
            "problems, with temperature and blood oxygen records."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the respiratory medicine department."""
    return DEPARTMENT
