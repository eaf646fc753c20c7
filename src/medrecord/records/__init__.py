"""Records (病历): rendering medical events per department, format and locale."""

from medrecord.records.labels import LABELS, SUPPORTED_LOCALES
from medrecord.records.render import RECORD_FORMATS, RecordFormat, render_record

__all__ = ["LABELS", "RECORD_FORMATS", "SUPPORTED_LOCALES", "RecordFormat", "render_record"]
