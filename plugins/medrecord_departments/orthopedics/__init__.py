"""Orthopedics (骨科): bone, joint and muscle complaints, with imaging findings."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.orthopedics.state import OrthopedicsState

__all__ = ["DEPARTMENT", "OrthopedicsState", "medrecord_department"]

DEPARTMENT = Department(
    code="orthopedics",
    event_agent_type="ortho",
    display_names={"zh-CN": "骨科", "en": "Orthopedics"},
    aliases=("ortho", "orthopaedics", "骨科"),
    state_schema=OrthopedicsState,
    template_package=__name__,
    description={
        "zh-CN": "关节痛、腰背痛、扭伤和骨折等骨科问题的问诊，可解读影像检查结果。",
        "en": (
            "Intake for joint pain, back pain, sprains, fractures and other bone and "
            "muscle problems, with imaging interpretation."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the orthopedics department."""
    return DEPARTMENT
