"""The exception hierarchy of medrecord.

Every error raised on purpose by the library derives from :class:`MedrecordError`, and each
one carries the offending value as an attribute, so callers can react without parsing
messages::

    MedrecordError
    ├── ConfigurationError
    │   └── InvalidTimeZoneError
    ├── DepartmentError
    │   ├── UnknownDepartmentError
    │   ├── DepartmentConflictError
    │   ├── DuplicateDepartmentError
    │   └── PluginLoadError
    ├── NotFoundError
    │   ├── SessionNotFoundError
    │   └── EventNotFoundError
    ├── AggregationError
    │   └── NoUserMessageError
    ├── ImportLineError
    ├── RecordRenderError
    └── LegacyMigrationError
        ├── LegacyRowError
        └── MigrationNotVerifiedError
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AggregationError",
    "ConfigurationError",
    "DepartmentConflictError",
    "DepartmentError",
    "DuplicateDepartmentError",
    "EventNotFoundError",
    "ImportLineError",
    "InvalidTimeZoneError",
    "LegacyMigrationError",
    "LegacyRowError",
    "MedrecordError",
    "MigrationNotVerifiedError",
    "NoUserMessageError",
    "NotFoundError",
    "PluginLoadError",
    "RecordRenderError",
    "SessionNotFoundError",
    "UnknownDepartmentError",
]


class MedrecordError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigurationError(MedrecordError):
    """A setting passed to the library is invalid."""


class InvalidTimeZoneError(ConfigurationError):
    """A time zone name is not a valid IANA zone."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"invalid time zone {name!r}: use an IANA zone name such as 'Asia/Shanghai' or 'UTC'"
        )


class DepartmentError(MedrecordError):
    """A department could not be resolved or registered."""


class UnknownDepartmentError(DepartmentError):
    """A department code or alias matches no registered department."""

    def __init__(self, code: str, registered: Sequence[str]) -> None:
        self.code = code
        self.registered = tuple(sorted(registered))
        listing = ", ".join(self.registered) or "none"
        super().__init__(f"unknown department {code!r}; registered departments: {listing}")


class DepartmentConflictError(DepartmentError):
    """A department hint names a different department than the session's own."""

    def __init__(self, session_department: str, hint: str, hinted_department: str) -> None:
        self.session_department = session_department
        self.hint = hint
        self.hinted_department = hinted_department
        super().__init__(
            f"department hint {hint!r} resolves to {hinted_department!r}, but the session "
            f"belongs to {session_department!r}; drop the hint or send the session's department"
        )


class DuplicateDepartmentError(DepartmentError):
    """Two plugins claim the same department code or alias."""

    def __init__(self, name: str, first_plugin: str, second_plugin: str) -> None:
        self.name = name
        self.first_plugin = first_plugin
        self.second_plugin = second_plugin
        super().__init__(
            f"department code or alias {name!r} is claimed by both plugin {first_plugin!r} "
            f"and plugin {second_plugin!r}; uninstall or block one of them"
        )


class PluginLoadError(DepartmentError):
    """A department plugin failed to import or to describe its department."""

    def __init__(self, plugin: str, reason: str) -> None:
        self.plugin = plugin
        self.reason = reason
        super().__init__(f"department plugin {plugin!r} failed to load: {reason}")


class NotFoundError(MedrecordError):
    """A requested row does not exist or belongs to another user."""


class SessionNotFoundError(NotFoundError):
    """No session with this id belongs to this user.

    The message is the same whether the session is missing or owned by someone else, so
    that no caller learns that another user's session exists.
    """

    def __init__(self, session_id: str, user_id: int) -> None:
        self.session_id = session_id
        self.user_id = user_id
        super().__init__(f"session {session_id!r} not found for user {user_id}")


class EventNotFoundError(NotFoundError):
    """No medical event with this id (and owner, when one was given) exists."""

    def __init__(self, event_id: int, user_id: int | None = None) -> None:
        self.event_id = event_id
        self.user_id = user_id
        owner = f" for user {user_id}" if user_id is not None else ""
        super().__init__(f"medical event {event_id} not found{owner}")


class AggregationError(MedrecordError):
    """A session cannot be aggregated into a medical event."""


class NoUserMessageError(AggregationError):
    """The session has no message from the user, so there is nothing to record."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(
            f"session {session_id!r} has no user message; a record needs at least one "
            "message from the user, so nothing was written"
        )


class ImportLineError(MedrecordError):
    """One line of a JSON Lines import is invalid."""

    def __init__(self, line_number: int, reason: str) -> None:
        self.line_number = line_number
        self.reason = reason
        super().__init__(f"line {line_number}: {reason}")


class RecordRenderError(MedrecordError):
    """A record template failed to render."""

    def __init__(self, template: str, reason: str) -> None:
        self.template = template
        self.reason = reason
        super().__init__(f"record template {template!r} failed to render: {reason}")


class LegacyMigrationError(MedrecordError):
    """The legacy migration cannot run as asked."""


class LegacyRowError(LegacyMigrationError):
    """A legacy row cannot be mapped to a session, so it is quarantined with ``reason``.

    ``reason`` is a stable code such as ``"unknown_role"``. ``detail`` describes what is
    wrong and where, naming fields and message positions but quoting no chat text.
    """

    def __init__(self, legacy_table: str, legacy_id: str, reason: str, detail: str) -> None:
        self.legacy_table = legacy_table
        self.legacy_id = legacy_id
        self.reason = reason
        self.detail = detail
        super().__init__(f"{legacy_table} row {legacy_id!r}: {reason}: {detail}")


class MigrationNotVerifiedError(LegacyMigrationError):
    """The legacy tables cannot be retired, because the migration has not been verified."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"refusing to retire the legacy tables: {reason}")
