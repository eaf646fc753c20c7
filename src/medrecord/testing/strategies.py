"""Hypothesis strategies for stored agent states and chat messages.

The strategies build JSON-ready values as the app stores them: ``agent_states()`` builds the
raw ``sessions.agent_state`` dict, with the spellings seen in real data, and
``chat_messages()`` builds the column values of ``messages`` rows. A department team can
pass strategies for its own state fields::

    from hypothesis import given, strategies as st
    from medrecord.testing.strategies import agent_states

    @given(agent_states(extra_fields={"pain_score": st.integers(0, 10)}))
    def test_reads_any_state(raw): ...

hypothesis is a development dependency, so import this module from tests only. Every text
leaves out NUL and lone surrogates, because PostgreSQL text and JSONB columns reject them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from medrecord.models.message import MessageType, Sender
from medrecord.state.schema import RiskLevel, SymptomStatus
from medrecord.state.spellings import RISK_LEVEL_SPELLINGS, SYMPTOM_STATUS_SPELLINGS

__all__ = [
    "NAME_SEPARATORS",
    "SYMPTOM_NAMES",
    "agent_states",
    "attachment_lists",
    "attachments",
    "chat_messages",
    "invalid_risk_levels",
    "risk_level_spellings",
    "stored_texts",
    "symptom_details",
    "symptom_names",
    "symptom_status_spellings",
    "symptoms_fields",
]

SYMPTOM_NAMES = ("瘙痒", "红斑", "脱屑", "水疱", "发热", "头痛", "胸闷", "咳嗽", "itching", "rash")
"""Symptom names as intake agents store them."""

NAME_SEPARATORS = ("、", ",", "，", ";", "；", "/")
"""Separators that a state may use to write a list of names as one string."""

_MAX_TEXT_SIZE = 40


def stored_texts(*, min_size: int = 0, max_size: int = _MAX_TEXT_SIZE) -> st.SearchStrategy[str]:
    """Generate any text that PostgreSQL and SQLite store unchanged."""
    return st.text(
        st.characters(codec="utf-8", exclude_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )


def symptom_names() -> st.SearchStrategy[str]:
    """Generate symptom names: common ones, or letters and digits without spaces or separators."""
    invented = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
    return st.one_of(st.sampled_from(SYMPTOM_NAMES), invented)


def _spelling_variants(canonical_keys: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Generate a known spelling in lower, upper or title case, possibly padded with spaces."""

    @st.composite
    def variant(draw: st.DrawFn) -> str:
        spelling = draw(canonical_keys)
        cased = draw(st.sampled_from((spelling, spelling.upper(), spelling.title())))
        padding = draw(st.sampled_from(("", " ", "  ")))
        return f"{padding}{cased}{draw(st.sampled_from(('', ' ')))}"

    return variant()


def risk_level_spellings() -> st.SearchStrategy[str]:
    """Generate spellings that the common state reads as a risk level ("中", " HIGH", "low")."""
    return _spelling_variants(st.sampled_from(sorted(RISK_LEVEL_SPELLINGS)))


def invalid_risk_levels() -> st.SearchStrategy[Any]:
    """Generate stored risk levels that are invalid: unknown words, numbers, lists."""
    unknown_words = stored_texts(min_size=1, max_size=12).filter(
        lambda text: text.strip() != "" and text.strip().lower() not in RISK_LEVEL_SPELLINGS
    )
    return st.one_of(
        unknown_words,
        st.integers(min_value=-5, max_value=100),
        st.lists(st.sampled_from([level.value for level in RiskLevel]), min_size=1, max_size=2),
    )


def symptom_status_spellings() -> st.SearchStrategy[str]:
    """Generate spellings that the common state reads as a symptom status ("否认", "Yes")."""
    return _spelling_variants(st.sampled_from(sorted(SYMPTOM_STATUS_SPELLINGS)))


def symptoms_fields(names: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Generate a stored ``symptoms`` value: a list of names, or one string joining them."""
    name_lists = st.lists(names or symptom_names(), max_size=5)

    @st.composite
    def joined(draw: st.DrawFn) -> str:
        separator = draw(st.sampled_from(NAME_SEPARATORS))
        return separator.join(draw(name_lists))

    return st.one_of(name_lists, joined())


def symptom_details(
    names: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Generate a stored ``symptom_details`` mapping of names to what is known about them."""
    detail = st.fixed_dictionaries(
        {},
        optional={
            "status": st.one_of(
                symptom_status_spellings(),
                st.sampled_from([status.value for status in SymptomStatus]),
            ),
            "duration": st.sampled_from(("1天", "3 days", "两周", "半年")),
            "severity": st.sampled_from(("轻度", "moderate", "重度")),
            "location": st.sampled_from(("左前臂", "face", "背部")),
        },
    )
    return st.dictionaries(names or symptom_names(), detail, max_size=4)


def agent_states(
    *,
    extra_fields: Mapping[str, st.SearchStrategy[Any]] | None = None,
    include_invalid: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """Generate a stored ``agent_state``: any subset of the common fields, as apps write them.

    ``extra_fields`` adds optional department fields. With ``include_invalid``, risk level
    and progress may also hold invalid values, which the library must report, not keep.
    An unknown key, which the library must keep, may appear too.
    """
    risk_levels: st.SearchStrategy[Any] = st.one_of(st.none(), st.just(""), risk_level_spellings())
    progress: st.SearchStrategy[Any] = st.integers(min_value=0, max_value=100)
    if include_invalid:
        risk_levels = st.one_of(risk_levels, invalid_risk_levels())
        progress = st.one_of(progress, st.integers(min_value=101, max_value=1_000))

    optional: dict[str, st.SearchStrategy[Any]] = {
        "stage": st.sampled_from(
            ("greeting", "collecting", "analyzing", "concluding", "completed")
        ),
        "progress": progress,
        "chief_complaint": st.one_of(st.none(), st.just("  "), stored_texts(min_size=1)),
        "symptoms": symptoms_fields(),
        "symptom_details": symptom_details(),
        "risk_level": risk_levels,
        "questions_asked": st.integers(min_value=0, max_value=30),
        "can_conclude": st.booleans(),
        "triage_note": stored_texts(),
    }
    optional.update(extra_fields or {})
    return st.fixed_dictionaries({}, optional=optional)


def attachments() -> st.SearchStrategy[Any]:
    """Generate one stored attachment: an image or file object, or a bare file name."""
    url = st.sampled_from(("https://example.invalid/a.jpg", "https://example.invalid/b.pdf"))
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("image"), "url": url}),
        st.fixed_dictionaries(
            {"mime_type": st.sampled_from(("image/png", "image/jpeg")), "url": url}
        ),
        st.fixed_dictionaries(
            {"type": st.just("file"), "mime_type": st.just("application/pdf"), "url": url}
        ),
        st.sampled_from(("report.pdf", "photo.jpg")),
    )


def attachment_lists() -> st.SearchStrategy[list[Any] | None]:
    """Generate a stored ``attachments`` value: None, an empty list or a short list."""
    return st.one_of(st.none(), st.lists(attachments(), max_size=3))


@st.composite
def _chat_message(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "sender": draw(st.sampled_from([Sender.USER.value, Sender.ASSISTANT.value])),
        "content": draw(stored_texts(max_size=80)),
        "message_type": draw(st.sampled_from([MessageType.TEXT.value, MessageType.IMAGE.value])),
        "attachments": draw(attachment_lists()),
    }


def chat_messages(
    *, min_size: int = 1, max_size: int = 12, require_user_message: bool = True
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Generate the messages of one session, in chronological order.

    Each message is a dict of ``Message`` column values: ``sender``, ``content``,
    ``message_type`` and ``attachments``. With ``require_user_message`` (the default) at
    least one message is the user's, which aggregation requires.
    """
    if require_user_message and min_size < 1:
        raise ValueError(
            f"invalid min_size {min_size}: a conversation with a user message needs min_size >= 1"
        )

    @st.composite
    def conversation(draw: st.DrawFn) -> list[dict[str, Any]]:
        messages = draw(st.lists(_chat_message(), min_size=min_size, max_size=max_size))
        if require_user_message and not any(m["sender"] == Sender.USER.value for m in messages):
            index = draw(st.integers(min_value=0, max_value=len(messages) - 1))
            messages[index] = {**messages[index], "sender": Sender.USER.value}
        return messages

    return conversation()
