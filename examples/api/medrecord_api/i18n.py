"""Locales of API messages: choosing one from Accept-Language, and the message catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "ATTACHMENT_REASONS",
    "DEFAULT_LOCALE",
    "FIELD_MESSAGES",
    "LOCALES",
    "PROBLEMS",
    "STREAM_ERRORS",
    "Locale",
    "field_message",
    "negotiate_locale",
    "problem_text",
    "stream_error_text",
]

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "zh-CN"

# Language tags (lowercase) read as simplified Chinese. Traditional Chinese tags are not
# listed, so a client asking for zh-TW first and en second gets English.
_CHINESE_TAGS = frozenset({"zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg"})

# Each problem code: (title, detail) per locale. Details are str.format templates whose
# fields the raising code passes; they never contain chat text or tokens.
PROBLEMS: Mapping[str, Mapping[Locale, tuple[str, str]]] = {
    "unauthorized": {
        "zh-CN": ("未授权", "缺少访问令牌或令牌无效，请在 Authorization 头中发送 Bearer 令牌。"),
        "en": (
            "Unauthorized",
            "The bearer token is missing or invalid; send Authorization: Bearer <token>.",
        ),
    },
    "session_not_found": {
        "zh-CN": ("会话不存在", "未找到会话 {session_id}。"),
        "en": ("Session not found", "Session {session_id} was not found."),
    },
    "attachment_not_found": {
        "zh-CN": ("附件不存在", "会话 {session_id} 中没有摘要为 {sha256} 的图片。"),
        "en": ("Attachment not found", "Session {session_id} has no image with digest {sha256}."),
    },
    "event_not_found": {
        "zh-CN": ("病历事件不存在", "未找到病历事件 {event_id}。"),
        "en": ("Medical event not found", "Medical event {event_id} was not found."),
    },
    "bad_request": {
        "zh-CN": ("请求无效", "无法解析请求体，请发送 UTF-8 编码的 JSON。"),
        "en": ("Bad request", "The request body could not be parsed; send JSON encoded as UTF-8."),
    },
    "not_found": {
        "zh-CN": ("资源不存在", "请求的路径不存在。"),
        "en": ("Not found", "No resource exists at this path."),
    },
    "method_not_allowed": {
        "zh-CN": ("方法不允许", "该路径不支持此 HTTP 方法。"),
        "en": ("Method not allowed", "This path does not support the HTTP method."),
    },
    "unknown_department": {
        "zh-CN": ("未知科室", "未知科室 {name}，可用科室：{codes}。"),
        "en": ("Unknown department", "Unknown department {name}; registered departments: {codes}."),
    },
    "department_conflict": {
        "zh-CN": (
            "科室不一致",
            "会话属于 {session_department}，但请求的科室 {hint} 是 {hinted_department}。"
            "请去掉 session_type 或发送会话自己的科室。",
        ),
        "en": (
            "Department conflict",
            "The session belongs to {session_department}, but the requested department "
            "{hint} is {hinted_department}; drop session_type or send the session's department.",
        ),
    },
    "no_user_message": {
        "zh-CN": ("会话没有用户消息", "会话 {session_id} 中没有用户消息，无法生成病历。"),
        "en": (
            "Session has no user message",
            "Session {session_id} has no message from the user, so no record can be built.",
        ),
    },
    "validation_failed": {
        "zh-CN": ("请求参数无效", "{count} 个字段无效：{fields}。"),
        "en": ("Invalid request", "{count} field(s) are invalid: {fields}."),
    },
    "invalid_attachment": {
        "zh-CN": ("附件无效", "附件 {position} 无效：{reason}"),
        "en": ("Invalid attachment", "Attachment {position} is invalid: {reason}"),
    },
    "attachment_too_large": {
        "zh-CN": ("附件过大", "附件 {position} 超过 {limit} 字节的上限。"),
        "en": ("Attachment too large", "Attachment {position} exceeds the limit of {limit} bytes."),
    },
    "payload_too_large": {
        "zh-CN": ("请求体过大", "请求体超过 {limit} 字节的上限。"),
        "en": ("Payload too large", "The request body exceeds the limit of {limit} bytes."),
    },
    "internal_error": {
        "zh-CN": ("服务器内部错误", "服务器处理请求时出错，请稍后重试。"),
        "en": ("Internal server error", "The server failed to process the request; retry later."),
    },
}

# Reasons filled into the invalid_attachment detail.
ATTACHMENT_REASONS: Mapping[str, Mapping[Locale, str]] = {
    "invalid_base64": {
        "zh-CN": "data 不是有效的 base64 编码。",
        "en": "data is not valid base64.",
    },
    "unsupported_type": {
        "zh-CN": "只支持 JPEG、PNG、WebP 和 GIF 图片。",
        "en": "only JPEG, PNG, WebP and GIF images are supported.",
    },
    "type_mismatch": {
        "zh-CN": "mime_type 与图片内容不符。",
        "en": "mime_type does not match the image content.",
    },
    "empty": {
        "zh-CN": "data 为空。",
        "en": "data is empty.",
    },
}

STREAM_ERRORS: Mapping[str, Mapping[Locale, str]] = {
    "agent_failed": {
        "zh-CN": "问诊助手暂时无法回复，您的消息已保存，请稍后重试。",
        "en": "The intake agent failed to reply; your message was saved, retry later.",
    },
    "invalid_state_update": {
        "zh-CN": "问诊助手返回的状态无效，您的消息已保存，请稍后重试。",
        "en": "The intake agent returned an invalid state; your message was saved, retry later.",
    },
    "internal_error": {
        "zh-CN": "保存回复时出错，您的消息已保存，请稍后重试。",
        "en": "Saving the reply failed; your message was saved, retry later.",
    },
}

# zh-CN messages for the pydantic error types that requests commonly hit; English uses
# pydantic's own message.
FIELD_MESSAGES: Mapping[str, str] = {
    "missing": "缺少必填字段。",
    "string_type": "应为字符串。",
    "int_type": "应为整数。",
    "int_parsing": "应为整数。",
    "int_from_float": "应为整数。",
    "bool_type": "应为布尔值。",
    "list_type": "应为数组。",
    "dict_type": "应为对象。",
    "model_type": "应为对象。",
    "model_attributes_type": "应为对象。",
    "string_too_long": "字符串过长，最多 {max_length} 个字符。",
    "string_too_short": "字符串过短，至少 {min_length} 个字符。",
    "too_long": "元素过多，最多 {max_length} 个。",
    "greater_than_equal": "应大于或等于 {ge}。",
    "less_than_equal": "应小于或等于 {le}。",
    "literal_error": "取值无效，可选值：{expected}。",
    "enum": "取值无效，可选值：{expected}。",
    "string_pattern_mismatch": "格式无效。",
    "json_invalid": "请求体不是有效的 JSON。",
    "contains_nul": "文本中不能包含 NUL 字符。",
    "invalid_unicode": "文本中包含无效的 Unicode 字符。",
    "blank_message": "消息内容和附件不能同时为空。",
    "invalid_cursor": "分页游标无效，请使用上一页返回的 next_cursor。",
    "extra_forbidden": "不允许的字段。",
    "unknown_department": "未知科室。",
    "too_large": "附件过大。",
    "invalid_base64": "不是有效的 base64 编码。",
    "unsupported_type": "只支持 JPEG、PNG、WebP 和 GIF 图片。",
    "type_mismatch": "mime_type 与图片内容不符。",
    "empty": "附件为空。",
}


def negotiate_locale(header: str | None) -> Locale:
    """Return the supported locale the Accept-Language header prefers, else zh-CN.

    Tags are ranked by q-value, ties by order. zh, zh-CN and zh-Hans mean zh-CN, any en
    tag means en, and ``*`` or a malformed header means the default.
    """
    if not header:
        return DEFAULT_LOCALE

    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        locale = _locale_of(tag.strip().lower())
        quality = _quality(parameters)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))

    if not ranked:
        return DEFAULT_LOCALE
    return min(ranked)[2]


def _locale_of(tag: str) -> Locale | None:
    if tag in _CHINESE_TAGS:
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    if tag == "*":
        return DEFAULT_LOCALE
    return None


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


def problem_text(code: str, locale: Locale, parameters: Mapping[str, Any]) -> tuple[str, str]:
    """Return the localised title and detail of a problem code.

    A parameter given as a mapping from locale to text is replaced by its text in
    ``locale``.
    """
    title, detail = PROBLEMS[code][locale]
    values = {
        name: value[locale] if isinstance(value, Mapping) else value
        for name, value in parameters.items()
    }
    return title, detail.format(**values)


def stream_error_text(code: str, locale: Locale) -> str:
    """Return the localised message of an error event in a reply stream."""
    return STREAM_ERRORS[code][locale]


def field_message(
    error_type: str, english: str, context: Mapping[str, Any] | None, locale: Locale
) -> str:
    """Return the message of one invalid field: the zh-CN catalogue entry or pydantic's."""
    if locale == "en":
        return english
    template = FIELD_MESSAGES.get(error_type)
    if template is None:
        return "字段值无效。"
    try:
        return template.format(**(context or {}))
    except (KeyError, IndexError):
        return template
