"""Convert IMCS-21 pediatric consultations (JSON Lines) into medrecord's import format.

Usage::

    python examples/converters/imcs21.py INPUT.jsonl -o OUTPUT.jsonl [--department pediatrics]

Each dialogue becomes one completed session: the parent's ``self_report`` is the first user
message, then every turn in order (患者 writes as the user, 医生 as the assistant). The
agent state comes from the annotations only. ``symptoms`` lists the symptoms labelled "1"
in ``implicit_info``, ``symptom_details`` gives every labelled symptom its status ("1"
present, "0" absent, "2" uncertain), and ``possible_diseases`` holds the disease label when
the record has one. The reference reports are never copied into the state, and no risk
level is set because the dataset assesses none.

Data attribution (required wherever results computed on IMCS-21 are shown):

    Wei Chen, Zhiwei Li, Hongyi Fang, Qianyuan Yao, Cheng Zhong, Jianye Hao, Qi Zhang,
    Xuanjing Huang, Jiajie Peng, Zhongyu Wei. A Benchmark for Automatic Medical Consultation
    System: Frameworks, Tasks and Datasets. Bioinformatics, 2022 (btac817).
    doi:10.1093/bioinformatics/btac817. Data: https://github.com/lemuria-wchen/imcs21

The IMCS-21 repositories state no license; the authors publish the data for research and
ask to be cited. Do not redistribute the data or the converted files.
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
    "BY_CONTENT",
    "DEFAULT_DEPARTMENT",
    "DEPARTMENT_BY_DIAGNOSIS",
    "SYMPTOM_STATUS_BY_LABEL",
    "agent_state_for",
    "convert_record",
    "department_for",
    "main",
]

DEFAULT_DEPARTMENT = "pediatrics"
"""Every IMCS-21 dialogue is a pediatric consultation."""

BY_CONTENT = "by-content"
"""Value of ``department`` that files each dialogue by its disease label."""

DEPARTMENT_BY_DIAGNOSIS: Mapping[str, str] = {
    "小儿支气管炎": "respiratory",
    "上呼吸道感染": "respiratory",
    "小儿腹泻": "gastroenterology",
    "小儿消化不良": "gastroenterology",
}
"""Department of each IMCS-21 v1 disease label. Any other label, or none, goes to general."""

BY_CONTENT_FALLBACK = "general"

SYMPTOM_STATUS_BY_LABEL: Mapping[str, str] = {"1": "present", "0": "absent", "2": "uncertain"}
"""IMCS-21 symptom labels: "1" the child has it, "0" does not, "2" the dialogue cannot tell."""


def department_for(record: Mapping[str, Any], department: str = DEFAULT_DEPARTMENT) -> str:
    """Return the department code of a dialogue: ``department``, or by disease label."""
    if department != BY_CONTENT:
        return department

    diagnosis = record.get("diagnosis")
    if isinstance(diagnosis, str):
        return DEPARTMENT_BY_DIAGNOSIS.get(diagnosis, BY_CONTENT_FALLBACK)
    return BY_CONTENT_FALLBACK


def agent_state_for(record: Mapping[str, Any]) -> dict[str, Any]:
    """Build the agent state from the record's annotations, or ``{}`` for an unlabelled record."""
    record_id = record.get("id")
    state: dict[str, Any] = {}

    labels = _symptom_labels(record)
    if labels:
        details: dict[str, dict[str, str]] = {}
        for name, label in labels.items():
            status = SYMPTOM_STATUS_BY_LABEL.get(label)
            if status is None:
                raise SourceRecordError(
                    record_id,
                    f"symptom {name!r} has label {label!r}; expected one of "
                    f"{', '.join(SYMPTOM_STATUS_BY_LABEL)}",
                )
            details[name] = {"status": status}

        state["symptoms"] = [name for name, label in labels.items() if label == "1"]
        state["symptom_details"] = details

    diagnosis = record.get("diagnosis")
    if diagnosis is not None:
        if not isinstance(diagnosis, str) or not diagnosis.strip():
            raise SourceRecordError(record_id, f"invalid diagnosis {diagnosis!r}")
        state["possible_diseases"] = [{"name": diagnosis}]

    return state


def _symptom_labels(record: Mapping[str, Any]) -> dict[str, str]:
    implicit_info = record.get("implicit_info")
    if implicit_info is None:
        return {}

    labels = implicit_info.get("Symptom") if isinstance(implicit_info, Mapping) else None
    if not isinstance(labels, Mapping):
        raise SourceRecordError(
            record.get("id"), "implicit_info has no Symptom object of symptom labels"
        )
    return {str(name): str(label) for name, label in labels.items()}


def convert_record(
    record: Mapping[str, Any],
    *,
    department: str = DEFAULT_DEPARTMENT,
    start: dt.datetime = DEFAULT_START,
) -> dict[str, Any]:
    """Convert one IMCS-21 record into one line of the import format.

    ``department`` is the department code to file the session under, or
    :data:`BY_CONTENT` to choose it from the disease label. ``start`` is the time of the
    self-report, and each turn follows one minute after the message before it.
    """
    record_id = _required_text(record, "id", record.get("id"))
    self_report = _required_text(record, "self_report", record_id)
    turns = _turns(record, record_id)
    times = message_times(len(turns) + 1, start)

    messages = [make_message("user", self_report, times[0], {"source_field": "self_report"})]
    for turn, created_at in zip(turns, times[1:], strict=True):
        messages.append(_turn_message(record_id, turn, created_at))

    return make_session_line(
        record_id,
        agent_type=department_for(record, department),
        agent_state=agent_state_for(record),
        messages=messages,
    )


def _turns(record: Mapping[str, Any], record_id: str) -> Sequence[Mapping[str, Any]]:
    turns = record.get("turns")
    if not isinstance(turns, list) or not all(isinstance(turn, Mapping) for turn in turns):
        raise SourceRecordError(record_id, "missing or invalid turns; expected a list of objects")
    return turns


def _turn_message(
    record_id: str, turn: Mapping[str, Any], created_at: dt.datetime
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "source_turn": turn.get("index"),
        "sentence_id": turn.get("sentence_id"),
        "speaker": turn.get("speaker"),
    }
    if "dialogue_act" in turn:
        metadata["dialogue_act"] = turn["dialogue_act"]

    content = _required_text(turn, "text", record_id)
    return make_message(sender_for_role(record_id, turn.get("role")), content, created_at, metadata)


def _required_text(source: Mapping[str, Any], key: str, record_id: object) -> str:
    value = source.get(key)
    if not isinstance(value, str) or not value:
        raise SourceRecordError(record_id, f"missing or empty text field {key!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line converter and return its exit status."""
    parser = build_parser(
        "Convert IMCS-21 dialogues into medrecord's JSON Lines import format.",
        default_department=DEFAULT_DEPARTMENT,
        department_help=(
            f"department code or alias of every session, or {BY_CONTENT!r} to map "
            "小儿支气管炎/上呼吸道感染 to respiratory, 小儿腹泻/小儿消化不良 to "
            "gastroenterology and anything else to general"
        ),
    )
    arguments = parser.parse_args(argv)

    if arguments.department == BY_CONTENT:
        resolve_departments(parser, [*DEPARTMENT_BY_DIAGNOSIS.values(), BY_CONTENT_FALLBACK])
        department = BY_CONTENT
    else:
        department = resolve_departments(parser, [arguments.department])[0]

    return run(
        parser,
        arguments,
        lambda record: convert_record(record, department=department, start=arguments.start),
    )


if __name__ == "__main__":
    sys.exit(main())
