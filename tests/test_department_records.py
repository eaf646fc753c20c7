"""Records of every department: its state fields in the right sections, in both locales and formats.

Each department adds lines to a record through the macros of its ``templates/<locale>/
sections.j2``. These tests fill every field of a department's state, aggregate a real session
and look for each value in the section where it belongs. They use the entry-point registry,
so they also check that the installed packages ship their templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy.orm import Session as DatabaseSession

from medrecord import DepartmentRegistry, MedicalEvent
from medrecord.records import render_record
from tests.factories import aggregate_session, make_session

FIRST_READING_AT = "2024-02-29T23:40:00+00:00"
"""07:40 on 2024-03-01 in Asia/Shanghai, so the UTC day differs from the local day."""

SECOND_READING_AT = "2024-03-01T00:15:00Z"
"""08:15 on 2024-03-01 in Asia/Shanghai."""

FIRST_READING_LOCAL = "2024-03-01 07:40"
SECOND_READING_LOCAL = "2024-03-01 08:15"

HEADINGS: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "findings": "现病史",
        "examinations": "辅助检查",
        "assessment": "初步诊断 / 可能情况",
        "advice": "处理意见 / 建议",
    },
    "en": {
        "findings": "History of present illness",
        "examinations": "Examinations",
        "assessment": "Assessment / possible conditions",
        "advice": "Plan / advice",
    },
}

NOT_PROVIDED = {"zh-CN": "未提供", "en": "not provided"}
NO_SYMPTOMS_LINE = {
    "zh-CN": "症状（患者所述）：未提供",
    "en": "Symptoms (reported by the patient): not provided",
}
RISK_LINE_START = {"zh-CN": "风险评估：", "en": "Risk assessment: "}
ASSESSMENT_SOURCE = {
    "zh-CN": "（来源：AI 问诊助手推测，仅供参考，不是医生诊断）",
    "en": (
        "(source: suggested by the AI intake assistant, for reference only,"
        " not a doctor's diagnosis)"
    ),
}

RENDERINGS = [
    pytest.param(locale, output_format, id=f"{locale}-{output_format}")
    for locale in ("zh-CN", "en")
    for output_format in ("markdown", "html")
]


@dataclass(frozen=True)
class DepartmentCase:
    """A state with every department field filled, and what its record must show.

    ``expected_text`` maps a locale and a section to the text that section must contain
    exactly once. Records show the AI reading of a report or image but not its link, so
    ``report_url`` and ``image_url`` have no expected text.
    """

    code: str
    state: Mapping[str, Any]
    expected_text: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)


CASES = [
    DepartmentCase(
        code="cardiology",
        state={
            "chief_complaint": "胸闷、心悸两天",
            "symptoms": ["胸闷", "心悸"],
            "risk_level": "medium",
            "cardiac_history": "高血压病史5年，服用氨氯地平",
            "blood_pressure_readings": [
                {"timestamp": FIRST_READING_AT, "systolic": 152, "diastolic": 96, "pulse": 92}
            ],
            "ecg_interpretations": [
                {
                    "timestamp": SECOND_READING_AT,
                    "report_url": "https://example.invalid/ecg/0301.pdf",
                    "findings": ["窦性心动过速", "ST段轻度压低"],
                    "risk_level": "high",
                }
            ],
        },
        expected_text={
            "zh-CN": {
                "findings": ["心血管病史：高血压病史5年，服用氨氯地平"],
                "examinations": [
                    f"测量值（{FIRST_READING_LOCAL}）：血压 152/96 mmHg，脉搏 92 次/分（患者自述）",
                    f"心电图 AI 解读（{SECOND_READING_LOCAL}）："
                    "窦性心动过速、ST段轻度压低；风险等级 高",
                    "（来源：AI 报告解读，不是医生诊断）",
                ],
            },
            "en": {
                "findings": ["Cardiac history: 高血压病史5年，服用氨氯地平"],
                "examinations": [
                    f"Measurement ({FIRST_READING_LOCAL}): blood pressure 152/96 mmHg, pulse 92 bpm"
                    " (reported by the patient)",
                    f"AI interpretation of an ECG report ({SECOND_READING_LOCAL}): 窦性心动过速,"
                    " ST段轻度压低; risk level high",
                    "(source: AI report interpretation, not a doctor's diagnosis)",
                ],
            },
        },
    ),
    DepartmentCase(
        code="orthopedics",
        state={
            "chief_complaint": "右膝扭伤后疼痛一天",
            "symptoms": ["膝关节疼痛", "肿胀"],
            "pain_location": "右膝关节内侧",
            "pain_score": 6,
            "injury_mechanism": "打篮球落地时扭伤",
            "mobility_limitations": ["下蹲困难", "上下楼梯疼痛"],
            "imaging_findings": [
                {
                    "timestamp": SECOND_READING_AT,
                    "image_url": "https://example.invalid/mri/knee.jpg",
                    "findings": ["内侧半月板信号异常", "关节腔少量积液"],
                }
            ],
        },
        expected_text={
            "zh-CN": {
                "findings": [
                    "疼痛部位：右膝关节内侧",
                    "疼痛评分（NRS）：6/10（患者自评）",
                    "受伤机制：打篮球落地时扭伤",
                    "活动受限：下蹲困难、上下楼梯疼痛",
                ],
                "examinations": [
                    f"影像 AI 解读（{SECOND_READING_LOCAL}）：内侧半月板信号异常、关节腔少量积液",
                    "（来源：AI 影像分析，不是医生诊断）",
                ],
            },
            "en": {
                "findings": [
                    "Pain location: 右膝关节内侧",
                    "Pain score (NRS): 6/10 (rated by the patient)",
                    "Mechanism of injury: 打篮球落地时扭伤",
                    "Limited movement: 下蹲困难, 上下楼梯疼痛",
                ],
                "examinations": [
                    f"AI reading of an X-ray, CT or MRI image ({SECOND_READING_LOCAL}):"
                    " 内侧半月板信号异常, 关节腔少量积液",
                    "(source: AI image analysis, not a doctor's diagnosis)",
                ],
            },
        },
    ),
    DepartmentCase(
        code="general",
        state={
            "chief_complaint": "发热伴咽痛两天",
            "symptoms": ["发热", "咽痛"],
            "possible_diseases": [
                {"name": "急性上呼吸道感染", "probability": 0.6},
                {"name": "流行性感冒", "probability": 0.3},
            ],
            "reasoning": "急性起病，发热伴咽痛，无基础疾病，正值流感季节",
        },
        expected_text={
            "zh-CN": {
                "assessment": [
                    "急性上呼吸道感染（可能性 60%）",
                    "流行性感冒（可能性 30%）",
                    "分析依据：急性起病，发热伴咽痛，无基础疾病，正值流感季节",
                    ASSESSMENT_SOURCE["zh-CN"],
                ],
            },
            "en": {
                "assessment": [
                    "急性上呼吸道感染 (likelihood 60%)",
                    "流行性感冒 (likelihood 30%)",
                    "Reasoning: 急性起病，发热伴咽痛，无基础疾病，正值流感季节",
                    ASSESSMENT_SOURCE["en"],
                ],
            },
        },
    ),
    DepartmentCase(
        code="neurology",
        state={
            "chief_complaint": "左侧肢体麻木半天",
            "symptoms": ["左侧肢体麻木", "言语含糊"],
            "risk_level": "critical",
            "onset": "今晨起床时突然出现",
            "neurological_signs": ["左侧肢体麻木", "言语含糊"],
            "red_flags": ["突发一侧肢体无力", "言语障碍"],
            "consciousness_changes": True,
        },
        expected_text={
            "zh-CN": {
                "findings": [
                    "起病情况：今晨起床时突然出现",
                    "神经系统表现：左侧肢体麻木、言语含糊",
                    "意识改变：有",
                ],
                "assessment": [
                    "危险信号（需紧急就医的征象）：突发一侧肢体无力、言语障碍",
                    ASSESSMENT_SOURCE["zh-CN"],
                ],
            },
            "en": {
                "findings": [
                    "Onset: 今晨起床时突然出现",
                    "Neurological signs: 左侧肢体麻木, 言语含糊",
                    "Change in consciousness: yes",
                ],
                "assessment": [
                    "Red flags (warning signs that call for urgent care):"
                    " 突发一侧肢体无力, 言语障碍",
                    ASSESSMENT_SOURCE["en"],
                ],
            },
        },
    ),
    DepartmentCase(
        code="endocrinology",
        state={
            "chief_complaint": "口干多饮一个月",
            "symptoms": ["口干", "多饮", "多尿"],
            "glucose_readings": [
                {"timestamp": FIRST_READING_AT, "value_mmol_l": 7.8, "context": "fasting"},
                {"timestamp": SECOND_READING_AT, "value_mmol_l": 11.6, "context": "postprandial"},
                {"value_mmol_l": 9.4, "context": "random"},
            ],
            "hba1c_percent": 7.4,
            "weight_change": "近三个月体重下降约4公斤",
        },
        expected_text={
            "zh-CN": {
                "findings": ["体重变化：近三个月体重下降约4公斤"],
                "examinations": [
                    f"血糖（{FIRST_READING_LOCAL}，空腹）：7.8 mmol/L（患者自述）",
                    f"血糖（{SECOND_READING_LOCAL}，餐后）：11.6 mmol/L（患者自述）",
                    "血糖（随机）：9.4 mmol/L（患者自述）",
                    "糖化血红蛋白（HbA1c）：7.4%（患者自述）",
                ],
            },
            "en": {
                "findings": ["Weight change: 近三个月体重下降约4公斤"],
                "examinations": [
                    f"Blood glucose ({FIRST_READING_LOCAL}, fasting): 7.8 mmol/L"
                    " (reported by the patient)",
                    f"Blood glucose ({SECOND_READING_LOCAL}, postprandial): 11.6 mmol/L"
                    " (reported by the patient)",
                    "Blood glucose (random): 9.4 mmol/L (reported by the patient)",
                    "HbA1c: 7.4% (reported by the patient)",
                ],
            },
        },
    ),
    DepartmentCase(
        code="gastroenterology",
        state={
            "chief_complaint": "上腹痛伴腹泻一周",
            "symptoms": ["上腹痛", "腹泻"],
            "abdominal_pain_location": "上腹部（剑突下）",
            "bowel_habits": "近一周每日2-3次稀便",
            "stool_characteristics": "黄色稀糊状，无黏液脓血",
            "diet_triggers": ["辛辣食物", "饮酒"],
        },
        expected_text={
            "zh-CN": {
                "findings": [
                    "腹痛部位：上腹部（剑突下）",
                    "排便习惯：近一周每日2-3次稀便",
                    "大便性状：黄色稀糊状，无黏液脓血",
                    "饮食诱因：辛辣食物、饮酒",
                ],
            },
            "en": {
                "findings": [
                    "Abdominal pain location: 上腹部（剑突下）",
                    "Bowel habits: 近一周每日2-3次稀便",
                    "Stool characteristics: 黄色稀糊状，无黏液脓血",
                    "Dietary triggers: 辛辣食物, 饮酒",
                ],
            },
        },
    ),
    DepartmentCase(
        code="respiratory",
        state={
            "chief_complaint": "咳嗽咳痰伴发热三天",
            "symptoms": ["咳嗽", "咳痰", "发热"],
            "cough_type": "productive",
            "sputum": "黄色黏痰，不易咳出",
            "max_temperature_celsius": 38.6,
            "smoking_history": "吸烟20年，每日10支",
            "spo2_readings": [{"timestamp": FIRST_READING_AT, "percent": 95}, 96.5],
        },
        expected_text={
            "zh-CN": {
                "findings": [
                    "咳嗽性质：咳嗽伴咳痰",
                    "痰液情况：黄色黏痰，不易咳出",
                    "最高体温：38.6℃（患者自述）",
                    "吸烟史：吸烟20年，每日10支",
                ],
                "examinations": [
                    f"血氧饱和度 SpO2（{FIRST_READING_LOCAL}）：95%（患者自述）",
                    "血氧饱和度 SpO2：96.5%（患者自述）",
                ],
            },
            "en": {
                "findings": [
                    "Cough: productive (with sputum)",
                    "Sputum: 黄色黏痰，不易咳出",
                    "Highest temperature: 38.6 °C (reported by the patient)",
                    "Smoking history: 吸烟20年，每日10支",
                ],
                "examinations": [
                    f"Oxygen saturation, SpO2 ({FIRST_READING_LOCAL}): 95%"
                    " (reported by the patient)",
                    "Oxygen saturation, SpO2: 96.5% (reported by the patient)",
                ],
            },
        },
    ),
    DepartmentCase(
        code="pediatrics",
        state={
            "chief_complaint": "发热两天",
            "symptoms": ["发热", "流涕"],
            "child_age": "2岁3个月",
            "child_sex": "male",
            "weight_kg": 12.5,
            "birth_history": "足月顺产，出生体重3.2kg",
            "feeding": "普通饮食，每日牛奶500ml",
            "vaccination_history": "按国家免疫规划按时接种",
            "allergy_history": "对鸡蛋过敏",
            "max_temperature_celsius": 39.2,
            "medications_taken": ["布洛芬混悬液", "小儿氨酚黄那敏颗粒"],
            "possible_diseases": [{"name": "幼儿急疹", "probability": 0.5}],
        },
        expected_text={
            "zh-CN": {
                "findings": [
                    "患儿年龄：2岁3个月",
                    "性别：男",
                    "体重：12.5 kg（家长代述）",
                    "最高体温：39.2℃（家长代述）",
                    "已用药物：布洛芬混悬液、小儿氨酚黄那敏颗粒",
                    "出生史：足月顺产，出生体重3.2kg",
                    "喂养史：普通饮食，每日牛奶500ml",
                    "预防接种史：按国家免疫规划按时接种",
                    "过敏史：对鸡蛋过敏",
                ],
                "assessment": ["幼儿急疹（可能性 50%）", ASSESSMENT_SOURCE["zh-CN"]],
            },
            "en": {
                "findings": [
                    "Age: 2岁3个月",
                    "Sex: male",
                    "Weight: 12.5 kg (reported by the parent)",
                    "Highest temperature: 39.2 °C (reported by the parent)",
                    "Medicines already given: 布洛芬混悬液, 小儿氨酚黄那敏颗粒",
                    "Birth history: 足月顺产，出生体重3.2kg",
                    "Feeding: 普通饮食，每日牛奶500ml",
                    "Vaccinations: 按国家免疫规划按时接种",
                    "Allergies: 对鸡蛋过敏",
                ],
                "assessment": ["幼儿急疹 (likelihood 50%)", ASSESSMENT_SOURCE["en"]],
            },
        },
    ),
]

CASE_PARAMS = [pytest.param(case, id=case.code) for case in CASES]


def render_department_record(
    db: DatabaseSession,
    registry: DepartmentRegistry,
    code: str,
    state: Mapping[str, Any],
    *,
    locale: str,
    output_format: str,
    time_zone: str = "Asia/Shanghai",
) -> str:
    """Aggregate a four-message session of a department and render its event."""
    if code not in registry.codes:
        pytest.skip(f"department {code!r} is not installed; install its package to test it")

    chat_session = make_session(db, agent_type=code, agent_state=state, message_count=4)
    result = aggregate_session(db, registry, chat_session)
    assert result.state_problems == []

    event = db.get(MedicalEvent, result.event_id)
    assert event is not None
    return render_record(
        event,
        registry=registry,
        format=output_format,  # type: ignore[arg-type]
        locale=locale,
        time_zone=time_zone,
    )


def section_text(record: str, heading: str, output_format: str) -> str:
    """Return the text between a level-2 heading and the next level-2 heading."""
    if output_format == "html":
        start, next_heading = f"<h2>{heading}</h2>", "<h2>"
    else:
        start, next_heading = f"## {heading}\n", "\n## "

    assert start in record, f"heading {heading!r} is missing"
    after = record.split(start, 1)[1]
    return after.split(next_heading, 1)[0]


def list_items(section: str, output_format: str) -> list[str]:
    """Return the text of every list item of a section."""
    if output_format == "html":
        return re.findall(r"<li[^>]*>(.*?)</li>", section)
    return [line[2:] for line in section.splitlines() if line.startswith("- ")]


def as_rendered(text: str, output_format: str) -> str:
    """Return text as a department line writes it: autoescaped, with quotes kept in Markdown.

    The base template's own source notes are template text, which is not escaped.
    """
    if text in ASSESSMENT_SOURCE.values():
        return text
    escaped = str(escape(text))
    if output_format == "markdown":
        return escaped.replace("&#39;", "'").replace("&#34;", '"')
    return escaped


@pytest.mark.parametrize(("locale", "output_format"), RENDERINGS)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_department_fields_in_their_sections(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    case: DepartmentCase,
    locale: str,
    output_format: str,
) -> None:
    record = render_department_record(
        db, installed_registry, case.code, case.state, locale=locale, output_format=output_format
    )

    for section, texts in case.expected_text[locale].items():
        body = section_text(record, HEADINGS[locale][section], output_format)
        for text in texts:
            count = body.count(as_rendered(text, output_format))
            assert count == 1, f"{text!r} appears {count} times in the {section} section"


@pytest.mark.parametrize(("locale", "output_format"), RENDERINGS)
@pytest.mark.parametrize("case", CASE_PARAMS)
def test_empty_state_has_no_department_lines(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    case: DepartmentCase,
    locale: str,
    output_format: str,
) -> None:
    record = render_department_record(
        db, installed_registry, case.code, {}, locale=locale, output_format=output_format
    )
    headings = HEADINGS[locale]

    findings = section_text(record, headings["findings"], output_format)
    assert list_items(findings, output_format) == [NO_SYMPTOMS_LINE[locale]]

    for section in ("examinations", "assessment", "advice"):
        body = section_text(record, headings[section], output_format)
        items = [
            item
            for item in list_items(body, output_format)
            if not item.startswith(RISK_LINE_START[locale])
        ]
        assert items == [], f"the empty {section} section lists {items!r}"
        assert NOT_PROVIDED[locale] in body


@pytest.mark.parametrize(
    ("code", "state", "locale", "expected"),
    [
        pytest.param(
            "respiratory",
            {"cough_type": "干咳"},
            "zh-CN",
            "咳嗽性质：干咳（无痰）",
            id="dry-cough-zh",
        ),
        pytest.param(
            "respiratory", {"cough_type": "dry"}, "en", "Cough: dry (no sputum)", id="dry-cough-en"
        ),
        pytest.param(
            "neurology",
            {"consciousness_changes": False},
            "zh-CN",
            "意识改变：无",
            id="no-consciousness-change-zh",
        ),
        pytest.param(
            "neurology",
            {"consciousness_changes": "否认"},
            "en",
            "Change in consciousness: no",
            id="no-consciousness-change-en",
        ),
        pytest.param("pediatrics", {"child_sex": "女孩"}, "zh-CN", "性别：女", id="girl-zh"),
        pytest.param("pediatrics", {"child_sex": "female"}, "en", "Sex: female", id="girl-en"),
    ],
)
def test_enumerated_values_are_localised(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    code: str,
    state: Mapping[str, Any],
    locale: str,
    expected: str,
) -> None:
    record = render_department_record(
        db, installed_registry, code, state, locale=locale, output_format="markdown"
    )

    findings = section_text(record, HEADINGS[locale]["findings"], "markdown")
    assert f"- {as_rendered(expected, 'markdown')}\n" in findings


@pytest.mark.parametrize(
    ("code", "state", "absent"),
    [
        pytest.param(
            "cardiology",
            {"blood_pressure_readings": [{"pulse": 70}], "ecg_interpretations": [{"findings": []}]},
            ["血压", "收缩压", "舒张压", "心电图"],
            id="cardiology-pulse-only",
        ),
        pytest.param(
            "endocrinology",
            {"glucose_readings": [{"context": "fasting"}, 6.2]},
            ["空腹"],
            id="endocrinology-reading-without-value",
        ),
        pytest.param(
            "orthopedics",
            {
                "imaging_findings": [
                    {"timestamp": FIRST_READING_AT, "image_url": "https://example.invalid/a.jpg"},
                    {"findings": ["桡骨远端骨折"]},
                ]
            },
            [FIRST_READING_LOCAL, "example.invalid"],
            id="orthopedics-imaging-without-findings",
        ),
        pytest.param(
            "respiratory",
            {"spo2_readings": [{"timestamp": FIRST_READING_AT}, 98]},
            [FIRST_READING_LOCAL],
            id="respiratory-reading-without-value",
        ),
    ],
)
def test_partial_readings_show_only_stored_values(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    code: str,
    state: Mapping[str, Any],
    absent: Sequence[str],
) -> None:
    record = render_department_record(
        db, installed_registry, code, state, locale="zh-CN", output_format="markdown"
    )
    examinations = section_text(record, HEADINGS["zh-CN"]["examinations"], "markdown")

    assert len(list_items(examinations, "markdown")) == 1
    assert NOT_PROVIDED["zh-CN"] not in examinations
    for text in absent:
        assert text not in examinations, f"{text!r} is shown for a value the state lacks"


@pytest.mark.parametrize(
    ("time_zone", "expected"),
    [
        pytest.param("Asia/Shanghai", FIRST_READING_LOCAL, id="shanghai"),
        pytest.param("UTC", "2024-02-29 23:40", id="utc"),
        pytest.param("America/New_York", "2024-02-29 18:40", id="new-york"),
    ],
)
@pytest.mark.parametrize(
    ("code", "state", "label"),
    [
        pytest.param(
            "cardiology",
            {
                "blood_pressure_readings": [
                    {"timestamp": FIRST_READING_AT, "systolic": 130, "diastolic": 80}
                ]
            },
            "测量值",
            id="cardiology",
        ),
        pytest.param(
            "dermatology",
            {"skin_analyses": [{"timestamp": FIRST_READING_AT, "conditions": ["湿疹"]}]},
            "皮肤照片 AI 分析",
            id="dermatology",
        ),
    ],
)
def test_state_timestamps_in_record_time_zone(
    db: DatabaseSession,
    installed_registry: DepartmentRegistry,
    code: str,
    state: Mapping[str, Any],
    label: str,
    time_zone: str,
    expected: str,
) -> None:
    record = render_department_record(
        db,
        installed_registry,
        code,
        state,
        locale="zh-CN",
        output_format="markdown",
        time_zone=time_zone,
    )
    examinations = section_text(record, HEADINGS["zh-CN"]["examinations"], "markdown")

    assert f"- {label}（{expected}）：" in examinations
