"""One query that reads a session's message totals and the messages its snapshot keeps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, Text, bindparam, text
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.models.types import UTCDateTime, json_type

__all__ = ["MessageWindow", "WindowMessage", "read_message_window"]

# Per dialect: how many attachments a message carries (the length of its attachments
# list, or one for an image message without a list) and whether it carries an image.
_ATTACHMENT_EXPRESSIONS = {
    "sqlite": (
        "CASE WHEN json_type(attachments) = 'array' AND json_array_length(attachments) > 0 "
        "THEN json_array_length(attachments) "
        "WHEN message_type = 'image' THEN 1 ELSE 0 END",
        "CASE WHEN message_type = 'image' OR EXISTS ("
        "SELECT 1 FROM json_each(CASE WHEN json_type(attachments) = 'array' "
        "THEN attachments ELSE '[]' END) AS item "
        "WHERE (CASE WHEN item.type = 'object' THEN json_extract(item.value, '$.type') END) "
        "= 'image' "
        "OR (CASE WHEN item.type = 'object' THEN json_extract(item.value, '$.mime_type') END) "
        "LIKE 'image/%') THEN 1 ELSE 0 END",
    ),
    "postgresql": (
        # The casts let production tables whose columns are json rather than jsonb work too.
        "CASE WHEN jsonb_typeof(attachments::jsonb) = 'array' "
        "AND jsonb_array_length(attachments::jsonb) > 0 "
        "THEN jsonb_array_length(attachments::jsonb) "
        "WHEN message_type = 'image' THEN 1 ELSE 0 END",
        "CASE WHEN message_type = 'image' OR EXISTS ("
        "SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(attachments::jsonb) = 'array' "
        "THEN attachments::jsonb ELSE '[]'::jsonb END) AS item "
        "WHERE jsonb_typeof(item) = 'object' AND (item ->> 'type' = 'image' "
        "OR item ->> 'mime_type' LIKE 'image/%')) THEN 1 ELSE 0 END",
    ),
}

_WINDOW_SQL = """
SELECT id, sender, content, message_type, attachments, metadata, created_at,
       position, total, user_total, attachment_total, image_total
FROM (
    SELECT id, sender, content, message_type, attachments, metadata, created_at,
           row_number() OVER (ORDER BY created_at, id) AS position,
           count(*) OVER () AS total,
           sum(CASE WHEN sender = 'user' THEN 1 ELSE 0 END) OVER () AS user_total,
           sum({attachments}) OVER () AS attachment_total,
           sum({images}) OVER () AS image_total
    FROM messages
    WHERE session_id = :session_id
) AS numbered
WHERE position <= :head OR position > total - :tail
ORDER BY position
"""


@dataclass(frozen=True)
class WindowMessage:
    """A message kept in a snapshot, with its 1-based chronological position."""

    id: int
    sender: str
    content: str
    message_type: str
    attachments: Any
    metadata: Any
    created_at: dt.datetime
    position: int


@dataclass(frozen=True)
class MessageWindow:
    """The totals over all messages of a session, and the first and last messages."""

    messages: list[WindowMessage]
    total: int
    user_total: int
    attachment_total: int
    image_total: int

    @property
    def omitted(self) -> int:
        """How many messages between the first and the last ones were left out."""
        return self.total - len(self.messages)


def read_message_window(
    database: DatabaseSession, session_id: str, *, head: int, tail: int
) -> MessageWindow:
    """Read the totals and the first ``head`` and last ``tail`` messages in one statement.

    Messages are ordered by ``created_at`` and then ``id``, so messages with the same
    timestamp keep their insertion order.
    """
    dialect = database.get_bind().dialect.name
    attachments, images = _ATTACHMENT_EXPRESSIONS.get(dialect, _ATTACHMENT_EXPRESSIONS["sqlite"])
    statement = (
        text(_WINDOW_SQL.format(attachments=attachments, images=images))
        .bindparams(
            bindparam("session_id", type_=String()),
            bindparam("head", type_=Integer()),
            bindparam("tail", type_=Integer()),
        )
        .columns(
            id=Integer(),
            sender=String(),
            content=Text(),
            message_type=String(),
            attachments=json_type(),
            metadata=json_type(),
            created_at=UTCDateTime(),
            position=Integer(),
            total=Integer(),
            user_total=Integer(),
            attachment_total=Integer(),
            image_total=Integer(),
        )
    )
    rows = database.execute(statement, {"session_id": session_id, "head": head, "tail": tail}).all()

    if not rows:
        return MessageWindow(messages=[], total=0, user_total=0, attachment_total=0, image_total=0)

    first = rows[0]
    messages = [
        WindowMessage(
            id=row.id,
            sender=row.sender,
            content=row.content,
            message_type=row.message_type,
            attachments=row.attachments,
            metadata=row.metadata,
            created_at=row.created_at,
            position=row.position,
        )
        for row in rows
    ]
    return MessageWindow(
        messages=messages,
        total=int(first.total),
        user_total=int(first.user_total or 0),
        attachment_total=int(first.attachment_total or 0),
        image_total=int(first.image_total or 0),
    )
