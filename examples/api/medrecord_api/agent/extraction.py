"""Reading intake facts from zh-CN patient text with keyword rules.

The rules find symptom words and whether the patient has or denies them, how long and how
badly, where on the body, red-flag symptoms, and a short chief complaint. They only
copy what the text states and infer nothing, so a sentence they do not match adds
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from medrecord.state import SymptomStatus

__all__ = [
    "RED_FLAG_SYMPTOMS",
    "SYMPTOM_KEYWORDS",
    "ExtractedFacts",
    "SymptomMention",
    "extract_facts",
    "shorten_complaint",
]

SYMPTOM_KEYWORDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "dermatology": {
        "皮疹": ("皮疹", "疹子", "起疹"),
        "红疹": ("红疹",),
        "瘙痒": ("瘙痒", "痒"),
        "脱皮": ("脱皮", "掉皮", "起皮"),
        "红肿": ("红肿",),
        "水疱": ("水疱", "水泡"),
    },
    "neurology": {
        "头痛": ("头痛", "头疼"),
        "头晕": ("头晕", "眩晕"),
        "麻木": ("麻木", "发麻"),
        "失眠": ("失眠", "睡不着"),
    },
    "respiratory": {
        "发热": ("发热", "发烧", "高烧", "低烧"),
        "咳嗽": ("咳嗽", "干咳"),
        "咳痰": ("咳痰", "有痰"),
        "咽痛": ("咽痛", "嗓子疼", "嗓子痛", "喉咙痛", "喉咙疼"),
        "流涕": ("流涕", "流鼻涕"),
        "鼻塞": ("鼻塞",),
        "呼吸困难": ("呼吸困难", "喘不过气", "喘不上气", "气喘"),
    },
    "cardiology": {
        "胸痛": ("胸痛", "胸口痛", "胸口疼"),
        "胸闷": ("胸闷",),
        "心悸": ("心悸", "心慌", "心跳快"),
    },
    "gastroenterology": {
        "腹痛": ("腹痛", "肚子疼", "肚子痛", "胃痛", "胃疼"),
        "腹泻": ("腹泻", "拉肚子"),
        "恶心": ("恶心", "想吐"),
        "呕吐": ("呕吐",),
        "便秘": ("便秘",),
        "反酸": ("反酸", "烧心"),
    },
    "orthopedics": {
        "关节痛": ("关节痛", "关节疼"),
        "腰痛": ("腰痛", "腰疼"),
        "背痛": ("背痛", "背疼"),
        "肿胀": ("肿胀",),
    },
    "endocrinology": {
        "口渴": ("口渴", "口干"),
        "多尿": ("多尿", "尿多", "尿频"),
        "体重下降": ("体重下降", "消瘦"),
    },
    "general": {
        "乏力": ("乏力", "没力气", "疲劳"),
        "食欲差": ("食欲差", "没胃口", "食欲不振"),
        "疼痛": ("疼痛",),
    },
}
"""Symptom names, grouped by the department where they are most common, with the words
patients use for them. Every group is matched in every department."""

RED_FLAG_SYMPTOMS = ("胸痛", "呼吸困难")
"""Symptoms that can mean an emergency (heart attack, respiratory failure)."""

_RED_FLAG_PHRASES = (
    "意识不清",
    "昏迷",
    "晕倒",
    "昏倒",
    "抽搐",
    "吐血",
    "咯血",
    "便血",
    "大量出血",
    "剧烈头痛",
    "口角歪斜",
    "说话不清",
    "一侧肢体无力",
)
"""Words for emergencies that are not in the symptom list (stroke, bleeding, seizure)."""

# A negation word, not when it starts a phrase that negates something else (不知道 is
# "do not know", 不停 "without stopping", 无缘无故 "for no reason").
_NEGATION = re.compile(
    r"(没有|没|无|未|否认|不)(?!知道|清楚|确定|停|断|舒服|行|了|少|小心|缘无故|明原因|太清楚)"
)
_UNCERTAIN = re.compile(r"好像|似乎|可能|说不清|不确定")
_NEGATION_WINDOW = 8
"""How many characters before a symptom word a negation may stand and still deny it."""

_CLAUSE_BREAK = re.compile(r"[，,。.;；!！?？\n]|但是|但|可是|不过")

_NUMBER = r"(?:\d+(?:\.\d+)?|[零一二两三四五六七八九十百几半]+)"
_DURATION = re.compile(
    rf"(?:{_NUMBER}\s*[-~～到至]\s*)?{_NUMBER}\s*个?\s*多?\s*(?:小时|天|日|周|星期|礼拜|个月|年)"
    r"(?:多|左右|以上)?"
    r"|(?:今天|昨天|前天|今早|昨晚|刚才)刚?开始"
)

_SEVERITY_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"不太严重|不严重|不是很严重"), "轻度"),
    (re.compile(r"严重|剧烈|厉害|受不了|重度|剧痛"), "重度"),
    (re.compile(r"中度|比较|挺|明显"), "中度"),
    (re.compile(r"轻微|轻度|有点|有一点|稍微|一点点"), "轻度"),
)

_BODY_PARTS: tuple[tuple[str, str], ...] = (
    ("头皮", "头皮"),
    ("额头", "额头"),
    ("脸上", "面部"),
    ("面部", "面部"),
    ("脸", "面部"),
    ("脖子", "颈部"),
    ("颈部", "颈部"),
    ("胳膊", "手臂"),
    ("手臂", "手臂"),
    ("手背", "手背"),
    ("手指", "手指"),
    ("后背", "背部"),
    ("背上", "背部"),
    ("背部", "背部"),
    ("胸前", "胸部"),
    ("胸口", "胸部"),
    ("肚子", "腹部"),
    ("腹部", "腹部"),
    ("腰部", "腰部"),
    ("大腿", "大腿"),
    ("小腿", "小腿"),
    ("膝盖", "膝部"),
    ("腿上", "腿部"),
    ("脚", "足部"),
    ("全身", "全身"),
)
"""Body words, in matching order (longer words first), and the name stored for each."""

_GREETING = re.compile(
    r"^(?:(?:医生|大夫)?(?:你好|您好)(?:医生|大夫)?|请问|医生|大夫|在吗|在不在)[，,!！。.?？\s]*"
)
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_TRAILING_PUNCTUATION = "，,。.;；!！?？、 "

MAX_COMPLAINT_LENGTH = 40


@dataclass(frozen=True)
class SymptomMention:
    """A symptom named in the text and whether the patient has it."""

    name: str
    status: SymptomStatus


@dataclass(frozen=True)
class ExtractedFacts:
    """Facts of one message: symptoms, duration, severity, body location, red flags."""

    mentions: tuple[SymptomMention, ...] = ()
    duration: str | None = None
    severity: str | None = None
    location: str | None = None
    red_flags: tuple[str, ...] = ()
    complaint: str | None = None

    @property
    def present(self) -> list[str]:
        """Names of the symptoms the patient has."""
        return [m.name for m in self.mentions if m.status is SymptomStatus.PRESENT]

    @property
    def absent(self) -> list[str]:
        """Names of the symptoms the patient denies."""
        return [m.name for m in self.mentions if m.status is SymptomStatus.ABSENT]


def extract_facts(text: str) -> ExtractedFacts:
    """Read the facts of one patient message."""
    mentions = _find_symptoms(text)
    present = {m.name for m in mentions if m.status is SymptomStatus.PRESENT}
    red_flags = [name for name in RED_FLAG_SYMPTOMS if name in present]
    red_flags += [phrase for phrase in _RED_FLAG_PHRASES if _occurs_affirmed(text, phrase)]

    return ExtractedFacts(
        mentions=tuple(mentions),
        duration=_find_duration(text),
        severity=_find_severity(text),
        location=_find_location(text),
        red_flags=tuple(red_flags),
        complaint=shorten_complaint(text),
    )


def shorten_complaint(text: str) -> str | None:
    """Return the first sentence of a message without greetings, at most 40 characters.

    A longer sentence is cut at its last comma within the limit, else at the limit. Returns
    None when nothing but a greeting is left.
    """
    remainder = text.strip()
    while True:
        stripped = _GREETING.sub("", remainder, count=1).strip()
        if stripped == remainder:
            break
        remainder = stripped

    sentences = [part.strip() for part in _SENTENCE_END.split(remainder) if part.strip()]
    if not sentences:
        return None
    sentence = sentences[0]

    if len(sentence) > MAX_COMPLAINT_LENGTH:
        head = sentence[:MAX_COMPLAINT_LENGTH]
        comma = max(head.rfind("，"), head.rfind(","))
        sentence = head[:comma] if comma >= MAX_COMPLAINT_LENGTH // 2 else head

    sentence = sentence.strip(_TRAILING_PUNCTUATION)
    return sentence or None


def _find_symptoms(text: str) -> list[SymptomMention]:
    found: dict[str, SymptomStatus] = {}
    for group in SYMPTOM_KEYWORDS.values():
        for name, words in group.items():
            for word in words:
                for match in re.finditer(re.escape(word), text):
                    status = _status_at(text, match.start())
                    # A symptom both affirmed and denied in one message counts as present.
                    if found.get(name) is not SymptomStatus.PRESENT:
                        found[name] = status
    return [SymptomMention(name, status) for name, status in found.items()]


def _status_at(text: str, start: int) -> SymptomStatus:
    clause_start = 0
    for match in _CLAUSE_BREAK.finditer(text, 0, start):
        clause_start = match.end()
    window = text[max(clause_start, start - _NEGATION_WINDOW) : start]
    if _NEGATION.search(window):
        return SymptomStatus.ABSENT
    if _UNCERTAIN.search(text[clause_start:start]):
        return SymptomStatus.UNCERTAIN
    return SymptomStatus.PRESENT


def _occurs_affirmed(text: str, phrase: str) -> bool:
    return any(
        _status_at(text, match.start()) is SymptomStatus.PRESENT
        for match in re.finditer(re.escape(phrase), text)
    )


def _find_duration(text: str) -> str | None:
    match = _DURATION.search(text)
    return match.group(0).replace(" ", "") if match else None


def _find_severity(text: str) -> str | None:
    for pattern, level in _SEVERITY_RULES:
        if pattern.search(text):
            return level
    return None


def _find_location(text: str) -> str | None:
    for word, name in _BODY_PARTS:
        if word in text:
            return name
    return None
