"""Cardiology (心血管科): heart and blood vessel complaints, with ECG and blood pressure data."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.cardiology.state import CardiologyState

__all__ = ["DEPARTMENT", "CardiologyState", "medrecord_department"]

DEPARTMENT = Department(
    code="cardiology",
    event_agent_type="cardio",
    display_names={"zh-CN": "心血管科", "en": "Cardiology"},
    aliases=("cardio", "heart", "cardiovascular", "心血管科", "心血管内科", "心内科"),
    state_schema=CardiologyState,
    template_package=__name__,
    description={
        "zh-CN": "胸痛、心悸、高血压等心血管问题的问诊，可解读心电图报告和血压记录。",
        "en": (
            "Intake for chest pain, palpitations, high blood pressure and other heart "
            "problems, with ECG report and blood pressure interpretation."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the cardiology department."""
    return DEPARTMENT
