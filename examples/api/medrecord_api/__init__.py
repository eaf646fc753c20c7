"""The example FastAPI app of medrecord: the API the iOS client uses.

Run it with ``medrecord serve`` or ``uvicorn --factory medrecord_api:create_app``; build
it in code with :func:`create_app`. A team plugs in its own LLM by passing an
:class:`IntakeAgent` to ``create_app(settings, agent=...)``.
"""

from medrecord_api.agent import (
    AgentOutput,
    HistoryMessage,
    IntakeAgent,
    IntakeTurn,
    RuleBasedIntakeAgent,
    SessionInfo,
    TurnResult,
)
from medrecord_api.app import create_app
from medrecord_api.settings import Settings, SettingsError

__all__ = [
    "AgentOutput",
    "HistoryMessage",
    "IntakeAgent",
    "IntakeTurn",
    "RuleBasedIntakeAgent",
    "SessionInfo",
    "Settings",
    "SettingsError",
    "TurnResult",
    "create_app",
]
