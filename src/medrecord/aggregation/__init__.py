"""Aggregation of chat sessions into medical events."""

from medrecord.aggregation.aggregate import DEFAULT_MESSAGE_CAP, aggregate
from medrecord.aggregation.result import AggregationResult, SessionSummary

__all__ = ["DEFAULT_MESSAGE_CAP", "AggregationResult", "SessionSummary", "aggregate"]
