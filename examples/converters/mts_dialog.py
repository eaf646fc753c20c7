"""Convert MTS-Dialog conversations (JSON Lines) into medrecord's import format.

Usage::

    python examples/converters/mts_dialog.py INPUT.jsonl -o OUTPUT.jsonl [--department general]

Each dialogue becomes one completed session of its turns in order: the patient and family
members (``Patient``, ``Guest_family*``) write as the user, the doctor and other clinicians
(``Doctor``, ``Guest_clinician``) as the assistant. A dialogue between clinicians therefore
has no user message, and aggregating it fails as it should.

The dataset pairs each dialogue with one section of a clinical note. The agent state keeps
the section header under ``reference_section_header``. The section text fills a state field
only when the header names one: ``CC`` gives ``chief_complaint`` and ``PASTMEDICALHX`` gives
``past_history``. Other section texts are references to compare a record with, so they
stay out of the state. No risk level is set because the dataset assesses none.

Data attribution (required wherever results computed on MTS-Dialog are shown):

    MTS-Dialog, by Asma Ben Abacha, Wen-wai Yim, Yadan Fan and Thomas Lin,
    https://github.com/abachaa/MTS-Dialog, licensed under CC BY 4.0
    (https://creativecommons.org/licenses/by/4.0/). Paper: An Empirical Study of Clinical
    Note Generation from Doctor-Patient Encounters, EACL 2023, pp. 2291-2302.
    Changes: a subset of the test set, converted to JSON Lines with the dialogue also split
    into speaker turns; text unchanged.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from import_format import (
    DEFAULT_START,
    SourceRecordError,
    build_parser,
    make_message,
    make_session_line,
    message_times,
    resolve_departments,
    run,
    sender_for_role,
)

__all__ = [
    "DEFAULT_DEPARTMENT",
    "STATE_FIELD_BY_SECTION",
    "agent_state_for",
    "convert_record",
    "main",
]

DEFAULT_DEPARTMENT = "general"

STATE_FIELD_BY_SECTION: Mapping[str, str] = {
    "CC": "chief_complaint",
    "PASTMEDICALHX": "past_history",
}
"""State field filled with the section text, for the section headers that name one."""


def agent_state_for(record: Mapping[str, Any]) -> dict[str, Any]:
    """Build the agent state from the note section header, and its text for CC and PASTMEDICALHX."""
    record_id = record.get("id")
    header = record.get("section_header")
    if not isinstance(header, str) or not header:
        raise SourceRecordError(record_id, "missing or empty section_header")

    state: dict[str, Any] = {"reference_section_header": header}
    field = STATE_FIELD_BY_SECTION.get(header)
    if field is not None:
        text = record.get("section_text")
        if not isinstance(text, str) or not text.strip():
            raise SourceRecordError(record_id, f"section {header} has no section_text")
        state[field] = text

    return state


def convert_record(
    record: Mapping[str, Any],
    *,
    department: str = DEFAULT_DEPARTMENT,
    start: dt.datetime = DEFAULT_START,
) -> dict[str, Any]:
    """Convert one MTS-Dialog record into one line of the import format.

    ``department`` is the department code to file the session under. ``start`` is the time
    of the first turn, and each later turn follows one minute after the one before it.
    """
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise SourceRecordError(record_id, "missing or empty id")

    turns = record.get("turns")
    if not isinstance(turns, list) or not all(isinstance(turn, Mapping) for turn in turns):
        raise SourceRecordError(record_id, "missing or invalid turns; expected a list of objects")

    times = message_times(len(turns), start)
    messages = [
        _turn_message(record_id, turn, created_at)
        for turn, created_at in zip(turns, times, strict=True)
    ]

    return make_session_line(
        record_id,
        agent_type=department,
        agent_state=agent_state_for(record),
        messages=messages,
    )


def _turn_message(
    record_id: str, turn: Mapping[str, Any], created_at: dt.datetime
) -> dict[str, Any]:
    content = turn.get("text")
    if not isinstance(content, str) or not content:
        raise SourceRecordError(record_id, f"turn {turn.get('index')!r} has no text")

    metadata = {"source_turn": turn.get("index"), "speaker": turn.get("speaker")}
    return make_message(sender_for_role(record_id, turn.get("role")), content, created_at, metadata)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line converter and return its exit status."""
    parser = build_parser(
        "Convert MTS-Dialog conversations into medrecord's JSON Lines import format.",
        default_department=DEFAULT_DEPARTMENT,
        department_help="department code or alias of every session",
    )
    arguments = parser.parse_args(argv)
    department = resolve_departments(parser, [arguments.department])[0]

    return run(
        parser,
        arguments,
        lambda record: convert_record(record, department=department, start=arguments.start),
    )


if __name__ == "__main__":
    sys.exit(main())
