"""Pediatrics (儿科): a department plugin maintained outside the medrecord core.

It registers through the entry-point group ``medrecord.departments`` of its own
distribution, ``medrecord-pediatrics``, exactly as a department written by another team
would.
"""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_pediatrics.state import ChildSex, PediatricsState

__all__ = ["DEPARTMENT", "ChildSex", "PediatricsState", "medrecord_department"]

DEPARTMENT = Department(
    code="pediatrics",
    event_agent_type="pedia",
    display_names={"zh-CN": "儿科", "en": "Pediatrics"},
    aliases=("pedia", "peds", "paediatrics", "儿科", "小儿科"),
    state_schema=PediatricsState,
    template_package=__name__,
    description={
        "zh-CN": (
            "儿童发热、咳嗽、腹泻、喂养等问题的问诊，由家长代述，记录年龄、体重和疫苗接种情况。"
        ),
        "en": (
            "Intake for children's fever, cough, diarrhoea, feeding and other problems, "
            "answered by a parent, with the child's age, weight and vaccinations."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the pediatrics department."""
    return DEPARTMENT
