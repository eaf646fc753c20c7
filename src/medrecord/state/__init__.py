"""Agent state schemas: the common intake state that departments extend, and its reader."""

from medrecord.state.measurements import blank_to_none, read_temperature_celsius
from medrecord.state.reading import StateProblem, StateReading, read_agent_state
from medrecord.state.schema import (
    AgentState,
    DiagnosisCandidate,
    Recommendations,
    RiskLevel,
    StateModel,
    SymptomDetail,
    SymptomStatus,
    Timestamp,
)
from medrecord.state.spellings import (
    RISK_LEVEL_SPELLINGS,
    SYMPTOM_STATUS_SPELLINGS,
    canonical_spelling,
    split_names,
)

__all__ = [
    "RISK_LEVEL_SPELLINGS",
    "SYMPTOM_STATUS_SPELLINGS",
    "AgentState",
    "DiagnosisCandidate",
    "Recommendations",
    "RiskLevel",
    "StateModel",
    "StateProblem",
    "StateReading",
    "SymptomDetail",
    "SymptomStatus",
    "Timestamp",
    "blank_to_none",
    "canonical_spelling",
    "read_agent_state",
    "read_temperature_celsius",
    "split_names",
]
