"""Session snapshots: what a medical event keeps of each of its sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from medrecord.aggregation.message_window import MessageWindow, WindowMessage
from medrecord.departments.department import Department
from medrecord.errors import ConfigurationError
from medrecord.models.chat_session import ChatSession
from medrecord.state import AgentState, StateReading

__all__ = ["build_snapshot", "split_message_cap"]


def split_message_cap(cap: int) -> tuple[int, int]:
    """Split the snapshot message cap into how many first and last messages to keep."""
    if cap < 2:
        raise ConfigurationError(
            f"invalid message cap {cap}: keep at least 2 messages (the first and the last)"
        )
    head = (cap + 1) // 2
    return head, cap - head


def build_snapshot(
    chat_session: ChatSession,
    department: Department,
    reading: StateReading[AgentState],
    window: MessageWindow,
    *,
    aggregated_at: dt.datetime,
) -> dict[str, Any]:
    """Build the JSON snapshot of one session.

    Every value comes from the session row, its messages or its validated state: a value
    the session does not have is None or an empty list, never a default. ``messages``
    contains the first and last messages in chronological order. ``omitted_message_count``
    counts the messages left out in between, and ``message_count`` is the true total.
    """
    state = reading.state
    last_message_at = window.messages[-1].created_at if window.messages else None

    return {
        "session_id": chat_session.id,
        "session_type": department.code,
        "department": department.display_name("zh-CN"),
        "timestamp": chat_session.created_at.isoformat(),
        "updated_at": chat_session.updated_at.isoformat() if chat_session.updated_at else None,
        "last_message_at": last_message_at.isoformat() if last_message_at else None,
        "status": chat_session.status,
        "stage": state.stage,
        "chief_complaint": state.chief_complaint,
        "symptoms": state.present_symptoms(),
        "denied_symptoms": state.absent_symptoms(),
        "uncertain_symptoms": state.uncertain_symptoms(),
        "risk_level": state.risk_level.value if state.risk_level is not None else None,
        "message_count": window.total,
        "user_message_count": window.user_total,
        "attachment_count": window.attachment_total,
        "has_images": window.image_total > 0,
        "omitted_message_count": window.omitted,
        "messages": [_message_json(message, window) for message in window.messages],
        "state": state.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
        "state_problems": [problem.as_json() for problem in reading.problems],
        "aggregated_at": aggregated_at.isoformat(),
    }


def _message_json(message: WindowMessage, window: MessageWindow) -> dict[str, Any]:
    return {
        "id": message.id,
        "position": message.position,
        "role": message.sender,
        "content": message.content,
        "timestamp": message.created_at.isoformat(),
        "type": message.message_type,
        "attachments": message.attachments,
    }
