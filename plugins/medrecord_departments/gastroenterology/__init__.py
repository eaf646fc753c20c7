"""Gastroenterology (消化科): stomach, bowel and digestion complaints."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.gastroenterology.state import GastroenterologyState

__all__ = ["DEPARTMENT", "GastroenterologyState", "medrecord_department"]

DEPARTMENT = Department(
    code="gastroenterology",
    event_agent_type="gastro",
    display_names={"zh-CN": "消化科", "en": "Gastroenterology"},
    aliases=("gastro", "gi", "消化科", "消化内科"),
    state_schema=GastroenterologyState,
    template_package=__name__,
    description={
        "zh-CN": "腹痛、腹泻、便秘、反酸等消化系统问题的问诊，记录排便情况和饮食诱因。",
        "en": (
            "Intake for abdominal pain, diarrhoea, constipation, reflux and other digestive "
            "problems, with bowel habits and diet triggers."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the gastroenterology department."""
    return DEPARTMENT
