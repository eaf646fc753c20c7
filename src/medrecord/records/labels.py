"""Localised words of the records: section names, roles, risk levels, "not provided"."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LABELS", "SUPPORTED_LOCALES"]

SUPPORTED_LOCALES = ("zh-CN", "en")

LABELS: Mapping[str, Mapping[str, str]] = {
    "zh-CN": {
        "not_provided": "未提供",
        "not_assessed": "未评估",
        "user": "患者",
        "assistant": "AI 问诊助手",
        "risk.low": "低",
        "risk.medium": "中",
        "risk.high": "高",
        "risk.critical": "危急",
        "status.present": "有",
        "status.absent": "否认",
        "status.uncertain": "不确定",
    },
    "en": {
        "not_provided": "not provided",
        "not_assessed": "not assessed",
        "user": "Patient",
        "assistant": "AI intake assistant",
        "risk.low": "low",
        "risk.medium": "medium",
        "risk.high": "high",
        "risk.critical": "critical",
        "status.present": "present",
        "status.absent": "denied",
        "status.uncertain": "uncertain",
    },
}
