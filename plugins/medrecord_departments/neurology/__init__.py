"""Neurology (神经科): headache, dizziness, numbness and other nervous system complaints."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.neurology.state import NeurologyState

__all__ = ["DEPARTMENT", "NeurologyState", "medrecord_department"]

DEPARTMENT = Department(
    code="neurology",
    event_agent_type="neuro",
    display_names={"zh-CN": "神经科", "en": "Neurology"},
    aliases=("neuro", "神经科", "神经内科"),
    state_schema=NeurologyState,
    template_package=__name__,
    description={
        "zh-CN": "头痛、头晕、麻木、抽搐等神经系统问题的问诊，重点识别需要急诊的危险信号。",
        "en": (
            "Intake for headache, dizziness, numbness, seizures and other nervous system "
            "problems, watching for warning signs that need emergency care."
        ),
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the neurology department."""
    return DEPARTMENT
