"""API settings: the bearer-token map, environment variables and derived limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from medrecord_api import Settings, SettingsError
from medrecord_api.settings import hash_token, parse_tokens

from medrecord import ConfigurationError


def test_parse_tokens_maps_digests_to_users() -> None:
    digests = parse_tokens(" alpha-token:1 , beta:token:2")

    assert digests == {hash_token("alpha-token"): 1, hash_token("beta:token"): 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("good:1,,other:2", "entry 2 is empty"),
        ("good:1,secret-no-user", "entry 2 is not of the form token:user_id"),
        ("good:1,:5", "entry 2 is not of the form token:user_id"),
        ("secret value:1", "token of entry 1 contains whitespace"),
        ("secret:one", "user id of entry 1 is not a positive integer"),
        ("secret:-1", "user id of entry 1 is not a positive integer"),
        ("secret:0", "user id of entry 1 is outside"),
        ("secret:99999999999", "user id of entry 1 is outside"),
        ("secret:1,secret:2", "token of entry 2 repeats an earlier entry"),
    ],
)
def test_bad_token_entry_names_position_not_token(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        parse_tokens(text)

    assert "secret" not in str(raised.value)


def test_from_environment_reads_every_variable(tmp_path: Path) -> None:
    settings = Settings.from_environment(
        environment={
            "MEDRECORD_API_TOKENS": "tok:42",
            "MEDRECORD_DATABASE_URL": "sqlite:///x.db",
            "MEDRECORD_TIMEZONE": "UTC",
            "MEDRECORD_API_MEDIA_DIR": str(tmp_path),
            "MEDRECORD_API_MAX_ATTACHMENT_BYTES": "1000",
            "MEDRECORD_API_MAX_ATTACHMENTS": "2",
            "MEDRECORD_API_MAX_MESSAGE_LENGTH": "50",
        }
    )

    assert settings.user_for_token("tok") == 42
    assert settings.user_for_token("other") is None
    assert settings.database_url == "sqlite:///x.db"
    assert settings.time_zone == "UTC"
    assert settings.media_dir == tmp_path
    assert (settings.max_attachment_bytes, settings.max_attachments) == (1000, 2)
    assert settings.max_message_length == 50


def test_arguments_override_environment() -> None:
    settings = Settings.from_environment(
        database_url="sqlite:///other.db",
        time_zone="Asia/Tokyo",
        environment={"MEDRECORD_API_TOKENS": "tok:1", "MEDRECORD_DATABASE_URL": "sqlite:///x.db"},
    )

    assert settings.database_url == "sqlite:///other.db"
    assert settings.time_zone == "Asia/Tokyo"


def test_missing_tokens_is_error() -> None:
    with pytest.raises(SettingsError, match="MEDRECORD_API_TOKENS is not set"):
        Settings.from_environment(environment={})


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1e3"])
def test_invalid_limit_variable_is_error(value: str) -> None:
    with pytest.raises(SettingsError, match="MEDRECORD_API_MAX_ATTACHMENTS"):
        Settings.from_environment(
            environment={"MEDRECORD_API_TOKENS": "tok:1", "MEDRECORD_API_MAX_ATTACHMENTS": value}
        )


def test_invalid_time_zone_is_error() -> None:
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        Settings(time_zone="Mars/Olympus")


def test_settings_repr_has_no_token_digests() -> None:
    settings = Settings.with_tokens({"tok": 1})

    assert hash_token("tok") not in repr(settings)


def test_request_limit_fits_every_attachment_in_base64() -> None:
    settings = Settings(max_attachment_bytes=3 * 1024, max_attachments=4)

    assert settings.max_request_bytes >= 4 * 4 * 1024
    assert settings.max_request_bytes < 4 * 4 * 1024 + 100 * 1024
