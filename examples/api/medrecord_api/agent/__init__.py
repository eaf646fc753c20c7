"""Intake agents: the protocol the app calls, and the rule-based example agent."""

from medrecord_api.agent.protocol import (
    AgentOutput,
    HistoryMessage,
    IntakeAgent,
    IntakeTurn,
    SessionInfo,
    TurnResult,
)
from medrecord_api.agent.rule_based import RuleBasedIntakeAgent

__all__ = [
    "AgentOutput",
    "HistoryMessage",
    "IntakeAgent",
    "IntakeTurn",
    "RuleBasedIntakeAgent",
    "SessionInfo",
    "TurnResult",
]
