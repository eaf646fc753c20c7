"""Dermatology (皮肤科): skin complaints, with photo analyses."""

from __future__ import annotations

from medrecord import Department, hookimpl
from medrecord_departments.dermatology.state import DermatologyState

__all__ = ["DEPARTMENT", "DermatologyState", "medrecord_department"]

DEPARTMENT = Department(
    code="dermatology",
    event_agent_type="derma",
    display_names={"zh-CN": "皮肤科", "en": "Dermatology"},
    aliases=("derma", "skin", "皮肤科"),
    state_schema=DermatologyState,
    template_package=__name__,
    description={
        "zh-CN": "皮疹、瘙痒、痤疮等皮肤问题的问诊，可分析皮肤照片。",
        "en": "Intake for rashes, itching, acne and other skin problems, with photo analysis.",
    },
)


@hookimpl
def medrecord_department() -> Department:
    """Provide the dermatology department."""
    return DEPARTMENT
