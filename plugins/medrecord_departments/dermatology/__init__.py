"""Dermatology (皮肤科): skin complaints, with photo analyses."""

from __future__ import annotations

from collections.abc import Sequence

from medrecord import Department, hookimpl
from medrecord.legacy import LegacyMapper
from medrecord_departments.dermatology.legacy import DERMA_SESSIONS_MAPPER
from medrecord_departments.dermatology.state import DermatologyState

__all__ = [
    "DEPARTMENT",
    "DERMA_SESSIONS_MAPPER",
    "DermatologyState",
    "medrecord_department",
    "medrecord_legacy_mappers",
]

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


@hookimpl
def medrecord_legacy_mappers() -> Sequence[LegacyMapper]:
    """Provide the mapper of the legacy ``derma_sessions`` table."""
    return [DERMA_SESSIONS_MAPPER]
