"""Agent state schemas: the common intake state that departments extend, and its reader."""

from medrecord.state.reading import StateProblem, StateReading, read_agent_state
from medrecord.state.schema import (
    AgentState,
    DiagnosisCandidate,
    Recommendations,
    RiskLevel,
    SymptomDetail,
    StateModel,
    SymptomStatus,
)

__all__ = [
    "AgentState",
    "DiagnosisCandidate",
    "Recommendations",
    "RiskLevel",
    "StateProblem",
    "StateModel",
    "StateReading",
    "SymptomDetail",
    "SymptomStatus",
    "read_agent_state",
]
