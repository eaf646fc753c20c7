"""Endocrinology (内分泌科): diabetes, thyroid and other hormone complaints."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.endocrinology.state import EndocrinologyState

__all__ = ["DEPARTMENT", "EndocrinologyState", "medrecord_department"]

DEPARTMENT = Department(
    code="endocrinology",
    event_agent_type="endo",
    display_names={"zh-CN": "内分泌科", "en": "Endocrinology"},
    aliases=("endo", "endocrine", "内分泌科"),
    state_schema=EndocrinologyState,
    template_package=__name__,
    description={
        "zh-CN": "血糖异常、甲状腺问题、体重变化等内分泌问题的问诊，可记录血糖和糖化血红蛋白。",
        "en": (
            "Intake for blood sugar, thyroid, weight change and other hormone problems, "
            "with blood glucose and HbA1c records."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the endocrinology department."""
    return DEPARTMENT
