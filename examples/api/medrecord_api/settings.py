"""Settings of the example API, read from the environment or built in code.

The bearer-token map is a stand-in for the team's own authentication: a deployment
replaces :func:`medrecord_api.auth.current_user` with its real user lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medrecord.clock import DEFAULT_TIME_ZONE, resolve_time_zone
from medrecord.database import DEFAULT_DATABASE_URL, normalize_database_url
from medrecord.errors import ConfigurationError

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DEPRECATED_AT",
    "DEFAULT_MEDIA_DIR",
    "DEFAULT_SUNSET_AT",
    "MAX_ATTACHMENTS_ENV",
    "MAX_ATTACHMENT_BYTES_ENV",
    "MAX_MESSAGE_LENGTH_ENV",
    "MAX_USER_ID",
    "MEDIA_DIR_ENV",
    "TIME_ZONE_ENV",
    "TOKENS_ENV",
    "Settings",
    "SettingsError",
    "hash_token",
    "parse_tokens",
]

DATABASE_URL_ENV = "MEDRECORD_DATABASE_URL"
TIME_ZONE_ENV = "MEDRECORD_TIMEZONE"
TOKENS_ENV = "MEDRECORD_API_TOKENS"
MEDIA_DIR_ENV = "MEDRECORD_API_MEDIA_DIR"
MAX_ATTACHMENT_BYTES_ENV = "MEDRECORD_API_MAX_ATTACHMENT_BYTES"
MAX_ATTACHMENTS_ENV = "MEDRECORD_API_MAX_ATTACHMENTS"
MAX_MESSAGE_LENGTH_ENV = "MEDRECORD_API_MAX_MESSAGE_LENGTH"

DEFAULT_MEDIA_DIR = Path("medrecord-media")
DEFAULT_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ATTACHMENTS = 4
DEFAULT_MAX_MESSAGE_LENGTH = 4000

MAX_USER_ID = 2**31 - 1
"""The largest user id: ``sessions.user_id`` is a 32-bit INTEGER column in production."""

DEFAULT_DEPRECATED_AT = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
"""When the ``/api/derma/*`` and ``/api/diagnosis/*`` endpoints were deprecated."""

DEFAULT_SUNSET_AT = dt.datetime(2027, 7, 1, tzinfo=dt.UTC)
"""When the deprecated endpoints may be removed. A deployment sets its own date."""

# Room in the request body for the JSON around the attachments: the text of a message of
# maximum length with every character escaped, the field names and the options.
_BODY_OVERHEAD_BYTES = 64 * 1024


class SettingsError(ConfigurationError):
    """A setting of the API is invalid; the message names the setting and the fix."""


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a bearer token is looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_tokens(text: str) -> dict[str, int]:
    """Parse ``token:user_id,token:user_id`` into a map from token digest to user id.

    Raises :class:`SettingsError` naming the 1-based position of a bad entry. The message
    never contains a token, because it ends up in logs.
    """
    digests: dict[str, int] = {}
    entries = [entry.strip() for entry in text.split(",")]
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise SettingsError(
                f"{TOKENS_ENV}: entry {position} is empty; separate token:user_id pairs "
                "with single commas"
            )
        token, separator, user_text = entry.rpartition(":")
        token = token.strip()
        if not separator or not token:
            raise SettingsError(f"{TOKENS_ENV}: entry {position} is not of the form token:user_id")
        if any(character.isspace() for character in token):
            raise SettingsError(f"{TOKENS_ENV}: the token of entry {position} contains whitespace")
        user_text = user_text.strip()
        if not user_text.isascii() or not user_text.isdigit():
            raise SettingsError(
                f"{TOKENS_ENV}: the user id of entry {position} is not a positive integer"
            )
        user_id = int(user_text)
        if not 1 <= user_id <= MAX_USER_ID:
            raise SettingsError(
                f"{TOKENS_ENV}: the user id of entry {position} is outside 1..{MAX_USER_ID}"
            )
        digest = hash_token(token)
        if digest in digests:
            raise SettingsError(
                f"{TOKENS_ENV}: the token of entry {position} repeats an earlier entry"
            )
        digests[digest] = user_id
    return digests


@dataclass(frozen=True)
class Settings:
    """Configuration of the API: database, time zone, users and attachment limits.

    ``token_digests`` maps the SHA-256 digest of each accepted bearer token to its user
    id (see :func:`parse_tokens`), so a settings object never contains a token.
    ``time_zone`` decides the local day under which sessions are filed into events.
    """

    database_url: str = DEFAULT_DATABASE_URL
    time_zone: str = DEFAULT_TIME_ZONE
    token_digests: Mapping[str, int] = field(default_factory=dict, repr=False)
    media_dir: Path = DEFAULT_MEDIA_DIR
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH
    deprecated_at: dt.datetime = DEFAULT_DEPRECATED_AT
    sunset_at: dt.datetime = DEFAULT_SUNSET_AT

    def __post_init__(self) -> None:
        # Accept a str as well, as callers in code often pass one.
        object.__setattr__(self, "media_dir", Path(self.media_dir))
        normalize_database_url(self.database_url)
        resolve_time_zone(self.time_zone)
        for name in ("max_attachment_bytes", "max_attachments", "max_message_length"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("deprecated_at", "sunset_at"):
            if getattr(self, name).tzinfo is None:
                raise SettingsError(f"{name} must be an aware datetime")

    @classmethod
    def with_tokens(cls, tokens: Mapping[str, int], **values: Any) -> Settings:
        """Build settings from plain ``{token: user_id}`` pairs, as tests and scripts do."""
        text = ",".join(f"{token}:{user_id}" for token, user_id in tokens.items())
        return cls(token_digests=parse_tokens(text) if text else {}, **values)

    @classmethod
    def from_environment(
        cls,
        *,
        database_url: str | None = None,
        time_zone: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> Settings:
        """Read the settings from environment variables; arguments override them.

        ``MEDRECORD_API_TOKENS`` must name at least one token, because without one every
        request would be rejected. Raises :class:`SettingsError` for a missing or invalid
        value, naming the variable.
        """
        env = os.environ if environment is None else environment

        tokens_text = env.get(TOKENS_ENV, "").strip()
        if not tokens_text:
            raise SettingsError(
                f"{TOKENS_ENV} is not set: set it to token:user_id pairs separated by commas, "
                f"for example {TOKENS_ENV}=change-me-long-random-token:42"
            )

        return cls(
            database_url=database_url or _text(env, DATABASE_URL_ENV) or DEFAULT_DATABASE_URL,
            time_zone=time_zone or _text(env, TIME_ZONE_ENV) or DEFAULT_TIME_ZONE,
            token_digests=parse_tokens(tokens_text),
            media_dir=Path(_text(env, MEDIA_DIR_ENV) or DEFAULT_MEDIA_DIR),
            max_attachment_bytes=_positive_int(
                env, MAX_ATTACHMENT_BYTES_ENV, DEFAULT_MAX_ATTACHMENT_BYTES
            ),
            max_attachments=_positive_int(env, MAX_ATTACHMENTS_ENV, DEFAULT_MAX_ATTACHMENTS),
            max_message_length=_positive_int(
                env, MAX_MESSAGE_LENGTH_ENV, DEFAULT_MAX_MESSAGE_LENGTH
            ),
        )

    @property
    def max_request_bytes(self) -> int:
        """The largest request body accepted: every attachment at its maximum, base64-encoded."""
        base64_length = 4 * -(-self.max_attachment_bytes // 3)
        return self.max_attachments * base64_length + _BODY_OVERHEAD_BYTES

    def user_for_token(self, token: str) -> int | None:
        """Return the user id of a bearer token, or None when the token is unknown."""
        return self.token_digests.get(hash_token(token))


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = _text(env, name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name} must be a positive integer, got {text!r}")
    return int(text)
