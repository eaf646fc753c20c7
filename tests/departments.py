"""A test-only department plugin, so that core tests need no built-in plugin but dermatology."""

from __future__ import annotations

from pydantic import Field

from medrecord import AgentState, Department, hookimpl

__all__ = ["SLEEP_CLINIC", "SleepClinicPlugin", "SleepClinicState"]


class SleepClinicState(AgentState):
    """Sleep clinic state: the common fields plus the hours slept per night."""

    sleep_hours_per_night: float | None = Field(default=None, ge=0, le=24)


SLEEP_CLINIC = Department(
    code="sleep",
    event_agent_type="sleep",
    display_names={"zh-CN": "睡眠门诊", "en": "Sleep clinic"},
    aliases=("sleep-clinic", "睡眠门诊"),
    state_schema=SleepClinicState,
    description={"zh-CN": "测试用科室。", "en": "A department for tests only."},
)


class SleepClinicPlugin:
    """Plugin object that provides :data:`SLEEP_CLINIC`."""

    @hookimpl
    def medrecord_department(self) -> Department:
        """Provide the sleep clinic department."""
        return SLEEP_CLINIC
