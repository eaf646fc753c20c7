"""The agent state of the dermatology intake."""

from __future__ import annotations

from pydantic import Field

from medrecord.state import AgentState, DiagnosisCandidate, StateModel, Timestamp

__all__ = ["DermatologyState", "SkinAnalysis"]


class SkinAnalysis(StateModel):
    """The AI analysis of one skin photo."""

    timestamp: Timestamp | None = None
    image_url: str | None = None
    conditions: list[str] = Field(default_factory=list)
    confidence: float | None = Field(default=None, ge=0, le=1)


class DermatologyState(AgentState):
    """Dermatology state: where the skin problem is, photo analyses and care advice.

    ``report_interpretations`` are readings of uploaded test reports, as objects whose
    fields the legacy agent chose. ``current_task`` and ``awaiting_image`` record where the
    agent was in the conversation.
    """

    skin_location: str | None = None
    duration: str | None = None
    skin_analyses: list[SkinAnalysis] = Field(default_factory=list)
    latest_analysis: SkinAnalysis | None = None
    report_interpretations: list[StateModel] = Field(default_factory=list)
    latest_interpretation: StateModel | None = None
    current_task: str | None = None
    awaiting_image: bool | None = None
    possible_conditions: list[DiagnosisCandidate] = Field(default_factory=list)
    care_advice: str | None = None
    need_offline_visit: bool | None = None
