"""Tests of the dataset converters in examples/converters, on the first real records.

Tests that read the shared real dialogue files are marked ``realdata``; the others use
records written here.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from medrecord import DepartmentRegistry, SymptomStatus, read_agent_state
from tests.support.real_data import (
    IMCS21_LABELED,
    IMCS21_UNLABELED,
    MTS_DIALOG,
    import_converter,
    read_records,
    real_data_file,
)

imcs21 = import_converter("imcs21")
mts_dialog = import_converter("mts_dialog")
import_format = import_converter("import_format")

FIRST_RECORDS = 5

SENDER_BY_ROLE = {
    "patient": "user",
    "family": "user",
    "doctor": "assistant",
    "clinician": "assistant",
}


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    assert value.utcoffset() is not None, f"time {text!r} has no UTC offset"
    return value


def _check_session_line(line: dict[str, Any], record_id: str) -> None:
    """Check the fields every converted line has, whatever the dataset."""
    assert set(line) == {
        "id",
        "user_id",
        "doctor_id",
        "agent_type",
        "agent_state",
        "last_message",
        "status",
        "created_at",
        "updated_at",
        "messages",
    }
    assert len(line["id"]) <= 36
    assert line["id"] == str(uuid.uuid5(import_format.SESSION_ID_NAMESPACE, record_id))
    assert isinstance(line["user_id"], int)
    assert 1 <= line["user_id"] <= 2**31 - 1
    assert line["doctor_id"] is None
    assert line["status"] == "completed"
    assert "risk_level" not in line["agent_state"]

    messages = line["messages"]
    times = [_parse_time(message["created_at"]) for message in messages]
    assert times == sorted(times)
    assert len(set(times)) == len(times), "message times are not strictly increasing"
    assert _parse_time(line["created_at"]) == times[0]
    assert _parse_time(line["updated_at"]) == times[-1]
    assert line["last_message"] == messages[-1]["content"]

    for message in messages:
        assert message["message_type"] == "text"
        assert message["attachments"] is None
        assert isinstance(message["metadata"], dict)


# IMCS-21


@pytest.mark.realdata
@pytest.mark.parametrize("position", range(FIRST_RECORDS))
def test_imcs21_labeled_record_messages(position: int) -> None:
    record = read_records(IMCS21_LABELED, FIRST_RECORDS)[position]

    line = imcs21.convert_record(record)

    _check_session_line(line, record["id"])
    messages = line["messages"]
    assert len(messages) == len(record["turns"]) + 1
    assert messages[0]["sender"] == "user"
    assert messages[0]["content"] == record["self_report"]
    assert messages[0]["metadata"] == {"source_field": "self_report"}
    for turn, message in zip(record["turns"], messages[1:], strict=True):
        assert message["content"] == turn["text"]
        assert message["sender"] == SENDER_BY_ROLE[turn["role"]]
        assert message["metadata"]["source_turn"] == turn["index"]
        assert message["metadata"]["speaker"] == turn["speaker"]
        assert message["metadata"]["dialogue_act"] == turn["dialogue_act"]


@pytest.mark.realdata
@pytest.mark.parametrize("position", range(FIRST_RECORDS))
def test_imcs21_labeled_record_state(position: int) -> None:
    record = read_records(IMCS21_LABELED, FIRST_RECORDS)[position]
    labels = record["implicit_info"]["Symptom"]

    state = imcs21.convert_record(record)["agent_state"]

    assert set(state) == {"symptoms", "symptom_details", "possible_diseases"}
    assert state["symptoms"] == [name for name, label in labels.items() if label == "1"]
    assert set(state["symptom_details"]) == set(labels)
    for name, label in labels.items():
        expected = {"1": "present", "0": "absent", "2": "uncertain"}[label]
        assert state["symptom_details"][name] == {"status": expected}
    assert state["possible_diseases"] == [{"name": record["diagnosis"]}]


@pytest.mark.realdata
@pytest.mark.parametrize("position", range(FIRST_RECORDS))
def test_imcs21_state_has_no_report_text(position: int) -> None:
    record = read_records(IMCS21_LABELED, FIRST_RECORDS)[position]

    state_text = json.dumps(imcs21.convert_record(record)["agent_state"], ensure_ascii=False)

    for sections in record["report_sections"]:
        for heading in ("主诉", "现病史", "建议"):
            assert sections[heading].strip() not in state_text


@pytest.mark.realdata
@pytest.mark.parametrize("position", range(FIRST_RECORDS))
def test_imcs21_unlabeled_record(position: int) -> None:
    record = read_records(IMCS21_UNLABELED, FIRST_RECORDS)[position]

    line = imcs21.convert_record(record)

    _check_session_line(line, record["id"])
    assert line["agent_state"] == {}
    assert line["agent_type"] == "pediatrics"
    assert len(line["messages"]) == len(record["turns"]) + 1
    for message in line["messages"][1:]:
        assert "dialogue_act" not in message["metadata"]


@pytest.mark.realdata
def test_imcs21_state_reads_without_problems(installed_registry: DepartmentRegistry) -> None:
    records = read_records(IMCS21_LABELED, FIRST_RECORDS)
    schema = installed_registry.resolve("pediatrics").state_schema

    for record in records:
        labels = record["implicit_info"]["Symptom"]
        reading = read_agent_state(imcs21.convert_record(record)["agent_state"], schema)

        assert reading.problems == []
        # Names read from symptom_details come back sorted, not in label order.
        assert sorted(reading.state.present_symptoms()) == sorted(
            n for n, v in labels.items() if v == "1"
        )
        assert reading.state.absent_symptoms() == sorted(n for n, v in labels.items() if v == "0")
        assert reading.state.uncertain_symptoms() == sorted(
            n for n, v in labels.items() if v == "2"
        )
        assert reading.state.risk_level is None


@pytest.mark.parametrize(
    ("diagnosis", "department"),
    [
        ("小儿支气管炎", "respiratory"),
        ("上呼吸道感染", "respiratory"),
        ("小儿腹泻", "gastroenterology"),
        ("小儿消化不良", "gastroenterology"),
        ("手足口病", "general"),
        (None, "general"),
    ],
)
def test_imcs21_department_by_content(diagnosis: str | None, department: str) -> None:
    record = {"id": "imcs21:test"}
    if diagnosis is not None:
        record["diagnosis"] = diagnosis

    assert imcs21.department_for(record, imcs21.BY_CONTENT) == department
    assert imcs21.department_for(record) == "pediatrics"
    assert imcs21.department_for(record, "general") == "general"


def _imcs21_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "imcs21:test",
        "self_report": "宝宝咳嗽两天",
        "turns": [
            {"index": 0, "sentence_id": "1", "speaker": "医生", "role": "doctor", "text": "你好"},
            {"index": 1, "sentence_id": "2", "speaker": "患者", "role": "patient", "text": "有痰"},
        ],
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"self_report": ""}, "self_report"),
        ({"turns": None}, "turns"),
        ({"turns": [{"index": 0, "role": "nurse", "text": "你好"}]}, "nurse"),
        ({"turns": [{"index": 0, "role": "doctor", "text": ""}]}, "text"),
        ({"implicit_info": {"Symptom": {"咳嗽": "3"}}}, "'3'"),
        ({"implicit_info": {"Drug": {}}}, "Symptom"),
        ({"diagnosis": " "}, "diagnosis"),
    ],
    ids=[
        "no-self-report",
        "no-turns",
        "unknown-role",
        "empty-turn",
        "unknown-label",
        "no-symptoms",
        "blank-diagnosis",
    ],
)
def test_imcs21_invalid_record_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(import_format.SourceRecordError, match=message) as raised:
        imcs21.convert_record(_imcs21_record(**changes))

    assert raised.value.record_id == "imcs21:test"


def test_imcs21_start_time_sets_message_times() -> None:
    start = dt.datetime(2025, 1, 2, 23, 59, tzinfo=dt.UTC)

    line = imcs21.convert_record(_imcs21_record(), start=start)

    times = [_parse_time(message["created_at"]) for message in line["messages"]]
    assert times == [start, start + dt.timedelta(minutes=1), start + dt.timedelta(minutes=2)]


def test_imcs21_naive_start_time_rejected() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        imcs21.convert_record(_imcs21_record(), start=dt.datetime(2025, 1, 2, 9, 0))


# MTS-Dialog


@pytest.mark.realdata
@pytest.mark.parametrize("position", range(FIRST_RECORDS))
def test_mts_dialog_record_messages(position: int) -> None:
    record = read_records(MTS_DIALOG, FIRST_RECORDS)[position]

    line = mts_dialog.convert_record(record)

    _check_session_line(line, record["id"])
    assert line["agent_type"] == "general"
    assert len(line["messages"]) == len(record["turns"])
    for turn, message in zip(record["turns"], line["messages"], strict=True):
        assert message["content"] == turn["text"]
        assert message["sender"] == SENDER_BY_ROLE[turn["role"]]
        assert message["metadata"] == {"source_turn": turn["index"], "speaker": turn["speaker"]}


@pytest.mark.realdata
def test_mts_dialog_state_by_section_header() -> None:
    records = read_records(MTS_DIALOG)
    fields = {"CC": "chief_complaint", "PASTMEDICALHX": "past_history"}
    seen_headers: set[str] = set()

    for record in records:
        header = record["section_header"]
        state = mts_dialog.convert_record(record)["agent_state"]
        seen_headers.add(header)

        if header in fields:
            assert state == {
                "reference_section_header": header,
                fields[header]: record["section_text"],
            }
        else:
            assert state == {"reference_section_header": header}

    assert {"CC", "PASTMEDICALHX", "GENHX"} <= seen_headers


@pytest.mark.realdata
def test_mts_dialog_family_and_clinician_roles() -> None:
    records = read_records(MTS_DIALOG)
    checked_roles: set[str] = set()

    for record in records:
        line = mts_dialog.convert_record(record)
        for turn, message in zip(record["turns"], line["messages"], strict=True):
            assert message["sender"] == SENDER_BY_ROLE[turn["role"]]
            checked_roles.add(turn["role"])

    assert checked_roles == set(SENDER_BY_ROLE)


def test_mts_dialog_section_text_required_for_cc() -> None:
    record = {
        "id": "mts-dialog:test",
        "turns": [{"index": 0, "speaker": "Patient", "role": "patient", "text": "My chest hurts."}],
        "section_header": "CC",
        "section_text": "",
    }

    with pytest.raises(import_format.SourceRecordError, match="section_text"):
        mts_dialog.convert_record(record)


# Both datasets


@pytest.mark.realdata
def test_ids_distinct_across_datasets() -> None:
    lines = [imcs21.convert_record(record) for record in read_records(IMCS21_LABELED)]
    lines += [imcs21.convert_record(record) for record in read_records(IMCS21_UNLABELED)]
    lines += [mts_dialog.convert_record(record) for record in read_records(MTS_DIALOG)]

    assert len({line["id"] for line in lines}) == len(lines)
    assert len({line["user_id"] for line in lines}) == len(lines)


@pytest.mark.realdata
def test_conversion_is_deterministic() -> None:
    record = read_records(IMCS21_LABELED, 1)[0]

    assert imcs21.convert_record(record) == imcs21.convert_record(dict(record))


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("converter", "file_name", "department", "expected_types"),
    [
        ("imcs21", IMCS21_LABELED, "by-content", {"respiratory", "gastroenterology"}),
        ("imcs21", IMCS21_UNLABELED, "peds", {"pediatrics"}),
        ("mts_dialog", MTS_DIALOG, "全科", {"general"}),
    ],
    ids=["imcs21-labeled-by-content", "imcs21-unlabeled-alias", "mts-dialog-chinese-alias"],
)
def test_command_line_writes_import_lines(
    converter: str, file_name: str, department: str, expected_types: set[str], tmp_path: Path
) -> None:
    module = import_converter(converter)
    source = real_data_file(file_name)
    output = tmp_path / "sessions.jsonl"

    status = module.main([str(source), "-o", str(output), "--department", department])

    assert status == 0
    lines = [json.loads(text) for text in output.read_text(encoding="utf-8").splitlines()]
    records = read_records(file_name)
    assert len(lines) == len(records)
    assert {line["agent_type"] for line in lines} == expected_types
    assert [line["id"] for line in lines] == [
        module.convert_record(record)["id"] for record in records
    ]


def test_command_line_rejects_unknown_department(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.jsonl"
    source.write_text(json.dumps(_imcs21_record(), ensure_ascii=False) + "\n", encoding="utf-8")

    with pytest.raises(SystemExit) as raised:
        imcs21.main([str(source), "--department", "no-such-department"])

    assert raised.value.code == 2
    assert "no-such-department" in capsys.readouterr().err


def test_command_line_reports_invalid_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.jsonl"
    source.write_text('{"id": "imcs21:broken", "turns": []}\n', encoding="utf-8")
    output = tmp_path / "sessions.jsonl"

    with pytest.raises(SystemExit) as raised:
        imcs21.main([str(source), "-o", str(output)])

    assert raised.value.code == 1
    assert "imcs21:broken" in capsys.readouterr().err
    assert not output.exists()


def test_symptom_status_values_match_library() -> None:
    assert set(imcs21.SYMPTOM_STATUS_BY_LABEL.values()) == {
        status.value for status in SymptomStatus
    }
