"""The built-in department plugins: registration, aliases and state schemas."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import pytest

from medrecord import AgentState, DepartmentRegistry, RiskLevel, load_departments, read_agent_state

# The medical_events.agent_type value that clients know, by built-in department code.
BUILTIN_EVENT_AGENT_TYPES = {
    "dermatology": "derma",
    "cardiology": "cardio",
    "orthopedics": "ortho",
    "general": "general",
    "neurology": "neuro",
    "endocrinology": "endo",
    "gastroenterology": "gastro",
    "respiratory": "respiratory",
}

BUILTIN_DISPLAY_NAMES = {
    "dermatology": ("皮肤科", "Dermatology"),
    "cardiology": ("心血管科", "Cardiology"),
    "orthopedics": ("骨科", "Orthopedics"),
    "general": ("全科", "General Practice"),
    "neurology": ("神经科", "Neurology"),
    "endocrinology": ("内分泌科", "Endocrinology"),
    "gastroenterology": ("消化科", "Gastroenterology"),
    "respiratory": ("呼吸科", "Respiratory Medicine"),
}

# Names clients send, and the department each must resolve to. Chinese names get ASCII
# test ids because pytest escapes non-ASCII characters in ids.
CLIENT_NAMES = [
    pytest.param("derma", "dermatology", id="derma"),
    pytest.param("皮肤科", "dermatology", id="dermatology-zh-name"),
    pytest.param("cardio", "cardiology", id="cardio"),
    pytest.param("heart", "cardiology", id="heart"),
    pytest.param("心血管科", "cardiology", id="cardiology-zh-name"),
    pytest.param("心内科", "cardiology", id="cardiology-zh-internal-medicine-name"),
    pytest.param("ortho", "orthopedics", id="ortho"),
    pytest.param("骨科", "orthopedics", id="orthopedics-zh-name"),
    pytest.param("general", "general", id="general"),
    pytest.param("diagnosis", "general", id="diagnosis"),
    pytest.param("全科", "general", id="general-zh-name"),
    pytest.param("neuro", "neurology", id="neuro"),
    pytest.param("神经科", "neurology", id="neurology-zh-name"),
    pytest.param("endo", "endocrinology", id="endo"),
    pytest.param("内分泌科", "endocrinology", id="endocrinology-zh-name"),
    pytest.param("gastro", "gastroenterology", id="gastro"),
    pytest.param("消化科", "gastroenterology", id="gastroenterology-zh-name"),
    pytest.param("respiratory", "respiratory", id="respiratory"),
    pytest.param("呼吸科", "respiratory", id="respiratory-zh-name"),
]

_PATH_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


@pytest.fixture(scope="module")
def registry() -> DepartmentRegistry:
    return load_departments(strict=True)


def builtin_names(registry: DepartmentRegistry) -> list[tuple[str, str]]:
    """Return (name, code) for the code and every alias of the built-in departments."""
    return [
        (name, code) for code in BUILTIN_EVENT_AGENT_TYPES for name in registry.resolve(code).names
    ]


def value_at(state: Any, path: str) -> Any:
    """Follow a problem-style path such as ``readings[0].value`` from a state."""
    value = state
    for attribute, index in _PATH_STEP.findall(path):
        if attribute and isinstance(value, dict):
            value = value[attribute]
        elif attribute:
            value = getattr(value, attribute)
        else:
            value = value[int(index)]
    return value


# --- registration -------------------------------------------------------------------------


def builtin_codes(registry: DepartmentRegistry) -> list[str]:
    """Return the codes of departments whose plugin is a module of medrecord_departments.

    Other installed plugins, such as the example pediatrics plugin, are left out.
    """
    codes = []
    for code in registry.codes:
        plugin = registry.plugin_manager.get_plugin(registry.plugin_of(code))
        if getattr(plugin, "__name__", "").startswith("medrecord_departments."):
            codes.append(code)
    return codes


def test_entry_points_load_eight_departments(registry: DepartmentRegistry) -> None:
    assert builtin_codes(registry) == sorted(BUILTIN_EVENT_AGENT_TYPES)
    assert registry.failures == []


@pytest.mark.parametrize("code", sorted(BUILTIN_EVENT_AGENT_TYPES))
def test_entry_point_named_after_code(registry: DepartmentRegistry, code: str) -> None:
    assert registry.plugin_of(code) == code


def test_event_agent_types_match_client_values(registry: DepartmentRegistry) -> None:
    event_agent_types = {
        code: registry.resolve(code).event_agent_type for code in builtin_codes(registry)
    }

    assert event_agent_types == BUILTIN_EVENT_AGENT_TYPES


@pytest.mark.parametrize("code", sorted(BUILTIN_DISPLAY_NAMES))
def test_department_display_names(registry: DepartmentRegistry, code: str) -> None:
    department = registry.resolve(code)
    zh_name, en_name = BUILTIN_DISPLAY_NAMES[code]

    assert department.display_name("zh-CN") == zh_name
    assert department.display_name("en") == en_name
    assert department.description.get("zh-CN")
    assert department.description.get("en")


@pytest.mark.parametrize("code", sorted(BUILTIN_EVENT_AGENT_TYPES))
def test_department_names_client_codes(registry: DepartmentRegistry, code: str) -> None:
    department = registry.resolve(code)
    zh_name, _ = BUILTIN_DISPLAY_NAMES[code]
    names = {name.casefold() for name in department.names}

    assert department.event_agent_type in names
    assert zh_name in names


@pytest.mark.parametrize("code", sorted(BUILTIN_EVENT_AGENT_TYPES))
def test_department_template_package(registry: DepartmentRegistry, code: str) -> None:
    department = registry.resolve(code)

    assert department.template_package == f"medrecord_departments.{code}"


def test_no_name_claimed_twice(registry: DepartmentRegistry) -> None:
    claimed: dict[str, str] = {}
    for name, code in builtin_names(registry):
        key = name.strip().casefold()
        assert key not in claimed, f"{name!r} of {code} is also a name of {claimed.get(key)}"
        claimed[key] = code


# --- aliases ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "code"), CLIENT_NAMES)
def test_client_name_resolves(registry: DepartmentRegistry, name: str, code: str) -> None:
    assert registry.resolve(name).code == code


def test_every_name_resolves_any_case(registry: DepartmentRegistry) -> None:
    for name, code in builtin_names(registry):
        for spelling in (name, name.upper(), name.title(), f"  {name} "):
            department = registry.find(spelling)
            assert department is not None, f"{spelling!r} resolves to nothing"
            assert department.code == code, f"{spelling!r} resolves to {department.code}"


# --- state schemas ------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCase:
    """A realistic stored state of one department and values its reading must contain.

    ``expected`` maps paths in the read state, written as problems report them, to values.
    """

    code: str
    state: dict[str, Any]
    expected: dict[str, Any]


COMMON_STATE: dict[str, Any] = {
    "stage": "collecting",
    "progress": "60%",
    "symptoms": "乏力、头晕",
    "symptom_details": {"乏力": {"duration": "两周", "status": "有"}, "发热": {"status": "否认"}},
    "risk_level": "中",
    "questions_asked": 4,
    "can_conclude": False,
    "recommendations": {
        "department": "内科",
        "urgency": "建议3天内就诊",
        "tests": "血常规、尿常规",
    },
}

COMMON_EXPECTED: dict[str, Any] = {
    "progress": 60,
    "symptoms": ["乏力", "头晕"],
    "symptom_details.发热.status": "absent",
    "risk_level": RiskLevel.MEDIUM,
    "recommendations.tests": ["血常规", "尿常规"],
}

STATE_CASES = [
    StateCase(
        code="dermatology",
        state={
            "chief_complaint": "手臂瘙痒3天",
            "skin_location": "左前臂",
            "skin_analyses": [
                {
                    "timestamp": "2026-01-15T10:30:00Z",
                    "image_url": "https://images.example.com/skin/1.jpg",
                    "conditions": ["湿疹", "过敏性皮炎"],
                    "confidence": 0.85,
                }
            ],
            "possible_conditions": ["湿疹", {"name": "接触性皮炎", "probability": 0.2}],
            "need_offline_visit": "yes",
        },
        expected={
            "skin_location": "左前臂",
            "skin_analyses[0].conditions": ["湿疹", "过敏性皮炎"],
            "skin_analyses[0].confidence": 0.85,
            "possible_conditions[0].name": "湿疹",
            "possible_conditions[1].probability": 0.2,
            "need_offline_visit": True,
        },
    ),
    StateCase(
        code="cardiology",
        state={
            "chief_complaint": "活动后胸闷1周",
            "ecg_interpretations": [
                {
                    "timestamp": "2026-01-15T11:00:00Z",
                    "report_url": "https://reports.example.com/ecg/7.pdf",
                    "findings": "窦性心律不齐、ST段轻度压低",
                    "risk_level": "高危",
                }
            ],
            "blood_pressure_readings": [
                {
                    "timestamp": "2026-01-15T08:00:00+08:00",
                    "systolic": 148,
                    "diastolic": 92,
                    "pulse": 88,
                },
                "135/85 mmHg",
            ],
            "cardiac_history": "高血压5年，规律服用氨氯地平",
        },
        expected={
            "ecg_interpretations[0].findings": ["窦性心律不齐", "ST段轻度压低"],
            "ecg_interpretations[0].risk_level": RiskLevel.HIGH,
            "blood_pressure_readings[0].systolic": 148,
            "blood_pressure_readings[0].diastolic": 92,
            "blood_pressure_readings[0].pulse": 88,
            "blood_pressure_readings[1].systolic": 135,
            "blood_pressure_readings[1].diastolic": 85,
            "cardiac_history": "高血压5年，规律服用氨氯地平",
        },
    ),
    StateCase(
        code="orthopedics",
        state={
            "chief_complaint": "右膝疼痛2天",
            "pain_location": "右膝内侧",
            "pain_score": "7/10",
            "injury_mechanism": "打篮球落地时扭伤",
            "mobility_limitations": "下蹲困难，上下楼梯疼痛",
            "imaging_findings": [
                {
                    "timestamp": "2026-01-16T09:00:00Z",
                    "image_url": "https://images.example.com/xray/3.jpg",
                    "findings": ["未见明显骨折"],
                }
            ],
        },
        expected={
            "pain_location": "右膝内侧",
            "pain_score": 7,
            "injury_mechanism": "打篮球落地时扭伤",
            "mobility_limitations": ["下蹲困难", "上下楼梯疼痛"],
            "imaging_findings[0].findings": ["未见明显骨折"],
        },
    ),
    StateCase(
        code="general",
        state={
            "chief_complaint": "咽痛、流涕2天",
            "possible_diseases": [
                {"name": "感冒", "probability": 0.7},
                {"name": "流感", "probability": 0.3},
                "急性咽炎",
            ],
            "reasoning": "起病急，以上呼吸道症状为主，无高热。",
        },
        expected={
            "possible_diseases[0].name": "感冒",
            "possible_diseases[0].probability": 0.7,
            "possible_diseases[2].name": "急性咽炎",
            "possible_diseases[2].probability": None,
            "reasoning": "起病急，以上呼吸道症状为主，无高热。",
        },
    ),
    StateCase(
        code="neurology",
        state={
            "chief_complaint": "反复头痛1个月",
            "onset": "1个月前逐渐出现",
            "neurological_signs": "右手麻木；视物模糊",
            "red_flags": ["晨起头痛加重"],
            "consciousness_changes": "否",
        },
        expected={
            "onset": "1个月前逐渐出现",
            "neurological_signs": ["右手麻木", "视物模糊"],
            "red_flags": ["晨起头痛加重"],
            "consciousness_changes": False,
        },
    ),
    StateCase(
        code="endocrinology",
        state={
            "chief_complaint": "口干多饮3个月",
            "glucose_readings": [
                {"timestamp": "2026-01-14T07:00:00+08:00", "value_mmol_l": 7.8, "context": "空腹"},
                {
                    "timestamp": "2026-01-14T14:00:00+08:00",
                    "value_mmol_l": "198 mg/dL",
                    "context": "餐后",
                },
                {"value_mmol_l": "9.4 mmol/L", "context": "随机"},
            ],
            "hba1c_percent": "7.2%",
            "weight_change": "3个月内下降4公斤",
        },
        expected={
            "glucose_readings[0].value_mmol_l": 7.8,
            "glucose_readings[0].context": "fasting",
            "glucose_readings[1].value_mmol_l": pytest.approx(198 / 18.016),
            "glucose_readings[1].context": "postprandial",
            "glucose_readings[2].value_mmol_l": 9.4,
            "glucose_readings[2].context": "random",
            "hba1c_percent": 7.2,
            "weight_change": "3个月内下降4公斤",
        },
    ),
    StateCase(
        code="gastroenterology",
        state={
            "chief_complaint": "上腹痛伴反酸2周",
            "abdominal_pain_location": "上腹部",
            "bowel_habits": "每日1次，近期偶有便秘",
            "stool_characteristics": "黄色成形便，无黑便",
            "diet_triggers": "辛辣食物、咖啡",
        },
        expected={
            "abdominal_pain_location": "上腹部",
            "bowel_habits": "每日1次，近期偶有便秘",
            "stool_characteristics": "黄色成形便，无黑便",
            "diet_triggers": ["辛辣食物", "咖啡"],
        },
    ),
    StateCase(
        code="respiratory",
        state={
            "chief_complaint": "咳嗽5天",
            "cough_type": "有痰",
            "sputum": "黄色黏痰",
            "max_temperature_celsius": "38.5℃",
            "smoking_history": "吸烟10年，每天半包",
            "spo2_readings": [{"timestamp": "2026-01-15T20:00:00+08:00", "percent": 96}, "94%"],
        },
        expected={
            "cough_type": "productive",
            "sputum": "黄色黏痰",
            "max_temperature_celsius": 38.5,
            "smoking_history": "吸烟10年，每天半包",
            "spo2_readings[0].percent": 96,
            "spo2_readings[1].percent": 94,
        },
    ),
]

STATE_CASES_BY_CODE = {case.code: case for case in STATE_CASES}


def realistic_state(code: str, **changes: Any) -> dict[str, Any]:
    """Return a fresh copy of the realistic state of a department, with ``changes`` applied."""
    return {
        **copy.deepcopy(COMMON_STATE),
        **copy.deepcopy(STATE_CASES_BY_CODE[code].state),
        **copy.deepcopy(changes),
    }


def schema_of(registry: DepartmentRegistry, code: str) -> type[AgentState]:
    return registry.resolve(code).state_schema


def test_state_cases_cover_every_department() -> None:
    assert sorted(STATE_CASES_BY_CODE) == sorted(BUILTIN_EVENT_AGENT_TYPES)


@pytest.mark.parametrize("case", STATE_CASES, ids=lambda case: case.code)
def test_realistic_state_reads_cleanly(registry: DepartmentRegistry, case: StateCase) -> None:
    schema = schema_of(registry, case.code)

    reading = read_agent_state(realistic_state(case.code), schema)

    assert reading.problems == []
    assert type(reading.state) is schema
    assert reading.state.chief_complaint == case.state["chief_complaint"]
    for path, expected in {**COMMON_EXPECTED, **case.expected}.items():
        assert value_at(reading.state, path) == expected, path


@pytest.mark.parametrize("case", STATE_CASES, ids=lambda case: case.code)
def test_unknown_keys_kept(registry: DepartmentRegistry, case: StateCase) -> None:
    raw = realistic_state(case.code, agent_version="2026.01")
    raw["symptom_details"]["乏力"]["onset_time"] = "晨起"

    reading = read_agent_state(raw, schema_of(registry, case.code))
    dumped = reading.state.model_dump(mode="json")

    assert reading.problems == []
    assert dumped["agent_version"] == "2026.01"
    assert dumped["symptom_details"]["乏力"]["onset_time"] == "晨起"


@pytest.mark.parametrize("case", STATE_CASES, ids=lambda case: case.code)
def test_empty_state_reads_as_nothing(registry: DepartmentRegistry, case: StateCase) -> None:
    reading = read_agent_state({}, schema_of(registry, case.code))
    dumped = reading.state.model_dump(exclude_defaults=True)

    assert reading.problems == []
    assert dumped == {}
    assert reading.state.risk_level is None


def test_unknown_item_keys_kept(registry: DepartmentRegistry) -> None:
    raw = realistic_state("cardiology")
    raw["ecg_interpretations"][0]["device"] = "12-lead"

    reading = read_agent_state(raw, schema_of(registry, "cardiology"))
    dumped = reading.state.model_dump(mode="json")

    assert reading.problems == []
    assert dumped["ecg_interpretations"][0]["device"] == "12-lead"


# --- known spellings ----------------------------------------------------------------------


@dataclass(frozen=True)
class SpellingCase:
    """A stored spelling of a department field and the value it must be read as.

    ``name`` is an ASCII description for the test id.
    """

    name: str
    code: str
    changes: dict[str, Any]
    path: str
    expected: Any


SPELLING_CASES = [
    SpellingCase(
        "ECG risk zh medium",
        "cardiology",
        {"ecg_interpretations": [{"risk_level": "中危"}]},
        "ecg_interpretations[0].risk_level",
        RiskLevel.MEDIUM,
    ),
    SpellingCase(
        "ECG risk blank",
        "cardiology",
        {"ecg_interpretations": [{"risk_level": " "}]},
        "ecg_interpretations[0].risk_level",
        None,
    ),
    SpellingCase(
        "blood pressure as text",
        "cardiology",
        {"blood_pressure_readings": ["160/100"]},
        "blood_pressure_readings[0].diastolic",
        100,
    ),
    SpellingCase(
        "cardiac history blank", "cardiology", {"cardiac_history": "  "}, "cardiac_history", None
    ),
    SpellingCase("pain score zh points", "orthopedics", {"pain_score": "6分"}, "pain_score", 6),
    SpellingCase("pain score out of 10", "orthopedics", {"pain_score": "4 / 10"}, "pain_score", 4),
    SpellingCase("pain score as text", "orthopedics", {"pain_score": "8"}, "pain_score", 8),
    SpellingCase("reasoning blank", "general", {"reasoning": ""}, "reasoning", None),
    SpellingCase(
        "diseases as one text",
        "general",
        {"possible_diseases": "感冒、流感"},
        "possible_diseases[1].name",
        "流感",
    ),
    SpellingCase(
        "consciousness zh yes",
        "neurology",
        {"consciousness_changes": "有"},
        "consciousness_changes",
        True,
    ),
    SpellingCase(
        "consciousness zh no",
        "neurology",
        {"consciousness_changes": "没有"},
        "consciousness_changes",
        False,
    ),
    SpellingCase(
        "consciousness zh unclear",
        "neurology",
        {"consciousness_changes": "不清楚"},
        "consciousness_changes",
        None,
    ),
    SpellingCase(
        "consciousness yes",
        "neurology",
        {"consciousness_changes": "yes"},
        "consciousness_changes",
        True,
    ),
    SpellingCase(
        "red flags as one text",
        "neurology",
        {"red_flags": "突发剧烈头痛、一侧肢体无力"},
        "red_flags",
        ["突发剧烈头痛", "一侧肢体无力"],
    ),
    SpellingCase(
        "glucose context zh fasting",
        "endocrinology",
        {"glucose_readings": [{"context": "空腹"}]},
        "glucose_readings[0].context",
        "fasting",
    ),
    SpellingCase(
        "glucose context zh 2h postprandial",
        "endocrinology",
        {"glucose_readings": [{"context": "餐后2小时"}]},
        "glucose_readings[0].context",
        "postprandial",
    ),
    SpellingCase(
        "glucose context zh random",
        "endocrinology",
        {"glucose_readings": [{"context": "随机"}]},
        "glucose_readings[0].context",
        "random",
    ),
    SpellingCase(
        "glucose context capitalised",
        "endocrinology",
        {"glucose_readings": [{"context": "Fasting"}]},
        "glucose_readings[0].context",
        "fasting",
    ),
    SpellingCase(
        "glucose reading as number",
        "endocrinology",
        {"glucose_readings": [6.1]},
        "glucose_readings[0].value_mmol_l",
        6.1,
    ),
    SpellingCase(
        "glucose in mg/dL",
        "endocrinology",
        {"glucose_readings": [{"value_mmol_l": "126 mg/dl"}]},
        "glucose_readings[0].value_mmol_l",
        pytest.approx(126 / 18.016),
    ),
    SpellingCase(
        "HbA1c with percent sign", "endocrinology", {"hba1c_percent": "6.5 %"}, "hba1c_percent", 6.5
    ),
    SpellingCase(
        "diet triggers as one text",
        "gastroenterology",
        {"diet_triggers": "牛奶/油腻食物"},
        "diet_triggers",
        ["牛奶", "油腻食物"],
    ),
    SpellingCase(
        "bowel habits blank", "gastroenterology", {"bowel_habits": " "}, "bowel_habits", None
    ),
    SpellingCase("cough zh dry", "respiratory", {"cough_type": "干咳"}, "cough_type", "dry"),
    SpellingCase(
        "cough zh with sputum", "respiratory", {"cough_type": "有痰"}, "cough_type", "productive"
    ),
    SpellingCase("cough zh wet", "respiratory", {"cough_type": "湿咳"}, "cough_type", "productive"),
    SpellingCase("cough upper case", "respiratory", {"cough_type": "DRY"}, "cough_type", "dry"),
    SpellingCase(
        "temperature zh degrees",
        "respiratory",
        {"max_temperature_celsius": "39 度"},
        "max_temperature_celsius",
        39,
    ),
    SpellingCase(
        "temperature in Fahrenheit",
        "respiratory",
        {"max_temperature_celsius": "101.3°F"},
        "max_temperature_celsius",
        pytest.approx(38.5),
    ),
    SpellingCase(
        "SpO2 reading as number",
        "respiratory",
        {"spo2_readings": [95]},
        "spo2_readings[0].percent",
        95,
    ),
]


@pytest.mark.parametrize("case", SPELLING_CASES, ids=lambda case: f"{case.code}-{case.name}")
def test_known_spelling_normalised(registry: DepartmentRegistry, case: SpellingCase) -> None:
    reading = read_agent_state(
        realistic_state(case.code, **case.changes), schema_of(registry, case.code)
    )

    assert reading.problems == []
    assert value_at(reading.state, case.path) == case.expected


# --- invalid values -----------------------------------------------------------------------


@dataclass(frozen=True)
class InvalidCase:
    """A change that puts one invalid value into a realistic state.

    ``problem_field`` and ``problem_value`` are what the problem must report, and
    ``kept_path`` a valid department field that must still hold ``kept_value``.
    """

    name: str
    code: str
    changes: dict[str, Any]
    problem_field: str
    problem_value: Any
    kept_path: str
    kept_value: Any


INVALID_CASES = [
    InvalidCase(
        "confidence above 1",
        "dermatology",
        {"skin_analyses": [{"conditions": ["湿疹"], "confidence": 1.7}]},
        "skin_analyses[0].confidence",
        1.7,
        "skin_analyses[0].conditions",
        ["湿疹"],
    ),
    InvalidCase(
        "systolic 400",
        "cardiology",
        {"blood_pressure_readings": [{"systolic": 400, "diastolic": 90, "pulse": 80}]},
        "blood_pressure_readings[0].systolic",
        400,
        "blood_pressure_readings[0].pulse",
        80,
    ),
    InvalidCase(
        "diastolic above systolic",
        "cardiology",
        {"blood_pressure_readings": ["80/120", "130/80"]},
        "blood_pressure_readings[0]",
        "80/120",
        "blood_pressure_readings[0].systolic",
        130,
    ),
    InvalidCase(
        "unknown ECG risk",
        "cardiology",
        {"ecg_interpretations": [{"findings": ["房颤"], "risk_level": "待定"}]},
        "ecg_interpretations[0].risk_level",
        "待定",
        "ecg_interpretations[0].findings",
        ["房颤"],
    ),
    InvalidCase(
        "pain score 15",
        "orthopedics",
        {"pain_score": 15},
        "pain_score",
        15,
        "pain_location",
        "右膝内侧",
    ),
    InvalidCase(
        "pain score -1",
        "orthopedics",
        {"pain_score": -1},
        "pain_score",
        -1,
        "injury_mechanism",
        "打篮球落地时扭伤",
    ),
    InvalidCase(
        "probability 1.5",
        "general",
        {"possible_diseases": [{"name": "感冒", "probability": 1.5}, {"name": "流感"}]},
        "possible_diseases[0].probability",
        1.5,
        "possible_diseases[1].name",
        "流感",
    ),
    InvalidCase(
        "consciousness answer unknown",
        "neurology",
        {"consciousness_changes": "说不好"},
        "consciousness_changes",
        "说不好",
        "onset",
        "1个月前逐渐出现",
    ),
    InvalidCase(
        "HbA1c in mmol/mol",
        "endocrinology",
        {"hba1c_percent": 53},
        "hba1c_percent",
        53,
        "glucose_readings[0].value_mmol_l",
        7.8,
    ),
    InvalidCase(
        "glucose without unit in mg/dL",
        "endocrinology",
        {"glucose_readings": [{"value_mmol_l": 126, "context": "空腹"}]},
        "glucose_readings[0].value_mmol_l",
        126,
        "glucose_readings[0].context",
        "fasting",
    ),
    InvalidCase(
        "glucose context bedtime",
        "endocrinology",
        {"glucose_readings": [{"value_mmol_l": 8.2, "context": "睡前"}]},
        "glucose_readings[0].context",
        "睡前",
        "glucose_readings[0].value_mmol_l",
        8.2,
    ),
    InvalidCase(
        "bowel habits as object",
        "gastroenterology",
        {"bowel_habits": {"frequency": "每日1次"}},
        "bowel_habits",
        {"frequency": "每日1次"},
        "diet_triggers",
        ["辛辣食物", "咖啡"],
    ),
    InvalidCase(
        "SpO2 120",
        "respiratory",
        {"spo2_readings": [{"percent": 120}, {"percent": 97}]},
        "spo2_readings[0].percent",
        120,
        "spo2_readings[1].percent",
        97,
    ),
    InvalidCase(
        "cough type unknown",
        "respiratory",
        {"cough_type": "偶尔"},
        "cough_type",
        "偶尔",
        "sputum",
        "黄色黏痰",
    ),
    InvalidCase(
        "temperature in Fahrenheit without unit",
        "respiratory",
        {"max_temperature_celsius": 101.3},
        "max_temperature_celsius",
        101.3,
        "cough_type",
        "productive",
    ),
]


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: f"{case.code}-{case.name}")
def test_invalid_value_reported(registry: DepartmentRegistry, case: InvalidCase) -> None:
    reading = read_agent_state(
        realistic_state(case.code, **case.changes), schema_of(registry, case.code)
    )

    assert [problem.field for problem in reading.problems] == [case.problem_field]
    assert reading.problems[0].value == case.problem_value
    assert value_at(reading.state, case.kept_path) == case.kept_value
    assert reading.state.chief_complaint == STATE_CASES_BY_CODE[case.code].state["chief_complaint"]
    assert reading.state.risk_level is RiskLevel.MEDIUM
