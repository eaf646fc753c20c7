"""The whole pipeline on every dialogue of the shared real datasets, on SQLite and PostgreSQL.

Each test converts one dataset file with the converters of examples/converters, imports all
its sessions in one transaction, aggregates each session in its own transaction, renders
every event in Markdown and HTML in both locales, and checks the records against the
source annotations: message counts, present, denied and uncertain symptoms, the
unassessed risk, and the chief complaint and past history that only MTS-Dialog gives.
A dialogue without a patient or family turn (some MTS-Dialog ones are between clinicians)
has no user message, so its aggregation must be rejected with nothing written.

Data: IMCS-21 (Chen et al., Bioinformatics 2022, doi:10.1093/bioinformatics/btac817,
https://github.com/lemuria-wchen/imcs21; no license stated, research use with attribution)
and MTS-Dialog (Ben Abacha et al., EACL 2023, https://github.com/abachaa/MTS-Dialog,
CC BY 4.0, a subset of the test set converted to JSON Lines). The converters' docstrings
carry the full attribution.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import markupsafe
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import (
    ChatSession,
    DepartmentRegistry,
    MedicalEvent,
    Message,
    NoUserMessageError,
    aggregate,
)
from medrecord.importing import import_sessions
from medrecord.records import render_record
from tests.support.real_data import (
    IMCS21_LABELED,
    IMCS21_UNLABELED,
    MTS_DIALOG,
    import_converter,
    read_records,
)

pytestmark = pytest.mark.realdata

imcs21 = import_converter("imcs21")
mts_dialog = import_converter("mts_dialog")

TIME_ZONE = "Asia/Shanghai"
ZONE = zoneinfo.ZoneInfo(TIME_ZONE)
AGGREGATED_AT = dt.datetime(2024, 3, 1, 6, 0, tzinfo=dt.UTC)
"""14:00 in Asia/Shanghai on the day of the converted sessions, after their last message."""

USER_ROLES = ("patient", "family")

SYMPTOM_ITEM_PREFIXES = {
    "zh-CN": {"present": "症状（患者所述）：", "absent": "否认：", "uncertain": "不确定："},
    "en": {
        "present": "Symptoms (reported by the patient): ",
        "absent": "Denies: ",
        "uncertain": "Uncertain: ",
    },
}
LIST_SEPARATORS = {"zh-CN": "、", "en": ", "}
RISK_PREFIXES = {"zh-CN": "- 风险评估：", "en": "- Risk assessment:"}
RISK_LINES = {"zh-CN": "- 风险评估：未评估", "en": "- Risk assessment: not assessed"}
HTML_RISK_LINES = {"zh-CN": "<p>风险评估：未评估</p>", "en": "<p>Risk assessment: not assessed</p>"}
ASSESSED_RISK = {
    "zh-CN": re.compile(r"风险评估：\s*(低|中|高|危急)"),
    "en": re.compile(r"Risk assessment:\s*(low|medium|high|critical)", re.IGNORECASE),
}
SECTION_HEADINGS = {
    "zh-CN": {
        "complaint": "## 主诉",
        "illness": "## 现病史",
        "past": "## 既往史",
        "assessment": "## 初步诊断 / 可能情况",
        "conversation": "## 对话记录",
    },
    "en": {
        "complaint": "## Chief complaint",
        "illness": "## History of present illness",
        "past": "## Past history",
        "assessment": "## Assessment / possible conditions",
        "conversation": "## Conversation",
    },
}
CONVERSATION_ITEM = re.compile(r'<li class="role-[^"]*">.*?</li>', re.DOTALL)
HTML_ILLNESS_SECTIONS = {
    "zh-CN": re.compile(r"<h2>现病史</h2>(.*?)<h2>", re.DOTALL),
    "en": re.compile(r"<h2>History of present illness</h2>(.*?)<h2>", re.DOTALL),
}
HTML_LIST_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)
NOT_PROVIDED = {"zh-CN": "未提供", "en": "not provided"}
SENDER_LABELS = {
    "zh-CN": {"user": "患者", "assistant": "AI 问诊助手"},
    "en": {"user": "Patient", "assistant": "AI intake assistant"},
}
SPEAKER_SEPARATORS = {"zh-CN": "：", "en": ": "}
MESSAGE_COUNT_TEXT = {"zh-CN": "；消息数：{count}；", "en": "; messages: {count};"}


@dataclass(frozen=True)
class Dialogue:
    """A source record, its import line and what its record must show."""

    record: dict[str, Any]
    line: dict[str, Any]
    message_count: int
    has_user_message: bool
    event_agent_type: str
    symptoms: dict[str, list[str]]
    """Symptom names by status ("present", "absent", "uncertain"), in source order."""
    chief_complaint: str | None
    past_history: str | None
    possible_diseases: list[str]


def _imcs21_dialogue(record: dict[str, Any]) -> Dialogue:
    labels = record.get("implicit_info", {}).get("Symptom", {})
    statuses = {"present": "1", "absent": "0", "uncertain": "2"}
    return Dialogue(
        record=record,
        line=imcs21.convert_record(record),
        message_count=len(record["turns"]) + 1,
        has_user_message=True,
        event_agent_type="pedia",
        symptoms={
            status: [name for name, label in labels.items() if label == code]
            for status, code in statuses.items()
        },
        chief_complaint=None,
        past_history=None,
        possible_diseases=[record["diagnosis"]] if "diagnosis" in record else [],
    )


def _mts_dialog_dialogue(record: dict[str, Any]) -> Dialogue:
    header = record["section_header"]
    return Dialogue(
        record=record,
        line=mts_dialog.convert_record(record),
        message_count=len(record["turns"]),
        has_user_message=any(turn["role"] in USER_ROLES for turn in record["turns"]),
        event_agent_type="general",
        symptoms={"present": [], "absent": [], "uncertain": []},
        chief_complaint=record["section_text"] if header == "CC" else None,
        past_history=record["section_text"] if header == "PASTMEDICALHX" else None,
        possible_diseases=[],
    )


DATASETS: dict[str, tuple[str, Callable[[dict[str, Any]], Dialogue]]] = {
    "imcs21-labeled": (IMCS21_LABELED, _imcs21_dialogue),
    "imcs21-unlabeled": (IMCS21_UNLABELED, _imcs21_dialogue),
    "mts-dialog": (MTS_DIALOG, _mts_dialog_dialogue),
}


@pytest.fixture(params=list(DATASETS))
def dialogues(request: pytest.FixtureRequest) -> list[Dialogue]:
    """Every dialogue of one shared dataset file, converted to an import line."""
    file_name, build = DATASETS[request.param]
    return [build(record) for record in read_records(file_name)]


@dataclass
class Outcome:
    """The event of one dialogue after aggregation, or None when aggregation was rejected."""

    dialogue: Dialogue
    event_id: int | None


def _import_all(
    db: DatabaseSession, registry: DepartmentRegistry, dialogues: list[Dialogue]
) -> None:
    lines = [json.dumps(dialogue.line, ensure_ascii=False) for dialogue in dialogues]
    report = import_sessions(lines, session=db, registry=registry)
    db.commit()

    assert report.errors == []
    assert report.skipped_sessions == []
    assert report.imported == len(dialogues)


def _aggregate_each(
    db: DatabaseSession, registry: DepartmentRegistry, dialogues: list[Dialogue]
) -> list[Outcome]:
    """Aggregate every session in its own transaction, as the app does on each request."""
    outcomes: list[Outcome] = []
    for dialogue in dialogues:
        try:
            result = aggregate(
                session=db,
                registry=registry,
                user_id=dialogue.line["user_id"],
                session_id=dialogue.line["id"],
                clock=lambda: AGGREGATED_AT,
                time_zone=TIME_ZONE,
            )
        except NoUserMessageError:
            db.rollback()
            outcomes.append(Outcome(dialogue, None))
            continue

        db.commit()
        assert result.is_new_event, f"{dialogue.record['id']} joined another dialogue's event"
        outcomes.append(Outcome(dialogue, result.event_id))
    return outcomes


def _section(markdown: str, heading: str) -> list[str]:
    """Return the non-empty lines of a Markdown section, up to the next level-2 heading."""
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    end = next(
        (index for index in range(start, len(lines)) if lines[index].startswith("## ")),
        len(lines),
    )
    return [line for line in lines[start:end] if line.strip()]


def _listed_names(lines: Sequence[str], prefix: str, separator: str) -> list[str] | None:
    """Return the names listed on the line that starts with ``prefix``, or None without one."""
    matches = [line for line in lines if line.startswith(prefix)]
    assert len(matches) <= 1, f"more than one line starts with {prefix!r}: {matches}"
    if not matches:
        return None
    return matches[0].removeprefix(prefix).split(separator)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _symptom_faults(dialogue: Dialogue, items: list[str], where: str, locale: str) -> list[str]:
    """Compare the symptom items of a record's present illness with the source labels.

    The present symptoms are one item in source order, or "not provided" when there are
    none. Denied and uncertain symptoms are one item each, and no item when there are none.
    """
    faults: list[str] = []
    separator = LIST_SEPARATORS[locale]

    for status, prefix in SYMPTOM_ITEM_PREFIXES[locale].items():
        listed = _listed_names(items, prefix, separator)
        expected = dialogue.symptoms[status]
        if status == "present":
            expected_listed: list[str] | None = expected or [NOT_PROVIDED[locale]]
        else:
            # These come from the keys of the JSON object symptom_details, and PostgreSQL's
            # JSONB does not keep key order, so only the sorted names must match.
            listed = sorted(listed) if listed is not None else None
            expected_listed = sorted(expected) or None

        if listed != expected_listed:
            faults.append(f"{where}: {status} symptoms {listed}, expected {expected_listed}")

    return faults


def _check_markdown(dialogue: Dialogue, markdown: str, locale: str) -> list[str]:
    """Return what is wrong with a Markdown record of one dialogue, one entry per fault."""
    source_id = dialogue.record["id"]
    faults: list[str] = []
    headings = SECTION_HEADINGS[locale]
    illness = _section(markdown, headings["illness"])
    items = [line.removeprefix("- ") for line in illness if line.startswith("- ")]
    faults += _symptom_faults(dialogue, items, f"{source_id} {locale}", locale)

    risk_lines = [line for line in markdown.splitlines() if ASSESSED_RISK[locale].search(line)]
    if risk_lines:
        faults.append(f"{source_id} {locale}: states a risk level: {risk_lines}")
    if markdown.splitlines().count(RISK_LINES[locale]) != 1:
        faults.append(f"{source_id} {locale}: no single line {RISK_LINES[locale]!r}")

    complaint = _section(markdown, headings["complaint"])
    expected_complaint = dialogue.chief_complaint or NOT_PROVIDED[locale]
    if len(complaint) != 1 or not complaint[0].startswith(
        _escape_markdown(_one_line(expected_complaint))
    ):
        faults.append(f"{source_id} {locale}: chief complaint {complaint}")

    past = _section(markdown, headings["past"])
    expected_past = _escape_markdown(dialogue.past_history or NOT_PROVIDED[locale])
    if past != [expected_past]:
        faults.append(f"{source_id} {locale}: past history {past}")

    assessment = _section(markdown, headings["assessment"])
    # The risk line closes this section, so it is left out of the candidate items.
    candidates = [
        line.removeprefix("- ")
        for line in assessment
        if line.startswith("- ") and not line.startswith(RISK_PREFIXES[locale])
    ]
    if candidates != dialogue.possible_diseases:
        faults.append(f"{source_id} {locale}: possible conditions {candidates}")
    if not dialogue.possible_diseases and NOT_PROVIDED[locale] not in assessment:
        faults.append(f"{source_id} {locale}: no {NOT_PROVIDED[locale]!r} for possible conditions")

    count_text = MESSAGE_COUNT_TEXT[locale].format(count=dialogue.message_count)
    if count_text not in markdown:
        faults.append(f"{source_id} {locale}: no {count_text!r} in the header")

    conversation = _section(markdown, headings["conversation"])
    rendered_lines = [line for line in conversation if line.startswith("- ")]
    expected_lines = [
        f"- {line}" for line in _conversation_lines(dialogue, locale, markdown_text=True)
    ]
    if rendered_lines != expected_lines:
        faults.append(f"{source_id} {locale}: conversation differs from the source turns")

    return faults


def _escape_markdown(text: str) -> str:
    """Escape text as Markdown records do: &, < and > become entities, and quotes stay."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _conversation_lines(dialogue: Dialogue, locale: str, *, markdown_text: bool) -> list[str]:
    """Return the expected record line of each message: local time, speaker and escaped text.

    Markdown records put each message on one line and keep quotes, while HTML records keep
    the text as it is and escape quotes too.
    """
    lines: list[str] = []
    for message in dialogue.line["messages"]:
        local_time = dt.datetime.fromisoformat(message["created_at"]).astimezone(ZONE)
        if markdown_text:
            content = _escape_markdown(_one_line(message["content"]))
        else:
            content = str(markupsafe.escape(message["content"]))
        speaker = SENDER_LABELS[locale][message["sender"]]
        lines.append(f"{local_time:%Y-%m-%d %H:%M} {speaker}{SPEAKER_SEPARATORS[locale]}{content}")
    return lines


def _check_html(dialogue: Dialogue, html: str, locale: str) -> list[str]:
    """Return what is wrong with an HTML record of one dialogue, one entry per fault."""
    source_id = dialogue.record["id"]
    faults: list[str] = []

    if html.count(HTML_RISK_LINES[locale]) != 1:
        faults.append(f"{source_id} {locale} HTML: no single {HTML_RISK_LINES[locale]!r}")
    if ASSESSED_RISK[locale].search(html):
        faults.append(f"{source_id} {locale} HTML: states a risk level")

    illness = HTML_ILLNESS_SECTIONS[locale].search(html)
    items = HTML_LIST_ITEM.findall(illness.group(1)) if illness else []
    faults += _symptom_faults(dialogue, items, f"{source_id} {locale} HTML", locale)

    expected_items = [
        f'<li class="role-{message["sender"]}"><time>{line[:16]}</time>{line[16:]}</li>'
        for message, line in zip(
            dialogue.line["messages"],
            _conversation_lines(dialogue, locale, markdown_text=False),
            strict=True,
        )
    ]
    rendered_items = CONVERSATION_ITEM.findall(html)
    if rendered_items != expected_items:
        faults.append(f"{source_id} {locale} HTML: conversation differs from the source turns")

    return faults


def _count(db: DatabaseSession, model: type[Any]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_pipeline_on_every_dialogue(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    dialogues: list[Dialogue],
) -> None:
    registry = installed_registry

    _import_all(db, registry, dialogues)
    assert _count(db, ChatSession) == len(dialogues)
    assert _count(db, Message) == sum(dialogue.message_count for dialogue in dialogues)

    outcomes = _aggregate_each(db, registry, dialogues)
    rejected = [outcome.dialogue.record["id"] for outcome in outcomes if outcome.event_id is None]
    without_user = [d.record["id"] for d in dialogues if not d.has_user_message]
    assert rejected == without_user
    assert _count(db, MedicalEvent) == len(dialogues) - len(without_user)
    # On SQLite every transaction begins with BEGIN IMMEDIATE and holds the write lock, so
    # this one must end before the reader's transaction can begin.
    db.rollback()

    faults: list[str] = []
    # A fresh session reads the events back, so only what was committed is rendered.
    with DatabaseSession(db.get_bind()) as reader:
        for outcome in outcomes:
            if outcome.event_id is not None:
                faults += _check_event(reader, registry, outcome.dialogue, outcome.event_id)

    assert faults == []


def _check_event(
    db: DatabaseSession, registry: DepartmentRegistry, dialogue: Dialogue, event_id: int
) -> list[str]:
    """Check the stored event of one dialogue, render its four records and check them."""
    event = db.get(MedicalEvent, event_id)
    assert event is not None
    assert event.user_id == dialogue.line["user_id"]
    assert event.agent_type == dialogue.event_agent_type
    assert event.session_count == 1
    assert event.risk_level is None
    snapshots = event.sessions or []
    assert [snapshot["session_id"] for snapshot in snapshots] == [dialogue.line["id"]]
    assert snapshots[0]["message_count"] == dialogue.message_count
    assert snapshots[0]["omitted_message_count"] == 0

    faults: list[str] = []
    for locale in ("zh-CN", "en"):
        markdown = render_record(
            event, registry=registry, format="markdown", locale=locale, time_zone=TIME_ZONE
        )
        html = render_record(
            event, registry=registry, format="html", locale=locale, time_zone=TIME_ZONE
        )
        faults += _check_markdown(dialogue, markdown, locale)
        faults += _check_html(dialogue, html, locale)
    return faults
