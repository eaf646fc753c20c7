"""Rendering a medical event as a record (病历) in Markdown or HTML."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Mapping
from typing import Any, Literal

import jinja2

from medrecord.clock import DEFAULT_TIME_ZONE, ensure_utc, resolve_time_zone
from medrecord.departments.department import Department
from medrecord.departments.registry import DepartmentRegistry
from medrecord.errors import ConfigurationError, RecordRenderError
from medrecord.models.medical_event import MedicalEvent
from medrecord.records.labels import LABELS, SUPPORTED_LOCALES
from medrecord.records.view import build_record_view

__all__ = ["RECORD_FORMATS", "RecordFormat", "render_record"]

logger = logging.getLogger(__name__)

RecordFormat = Literal["markdown", "html"]
RECORD_FORMATS: Mapping[str, str] = {"markdown": "md", "html": "html"}

_BLANK_LINE_RUNS = re.compile(r"\n{3,}")


def render_record(
    event: MedicalEvent,
    *,
    registry: DepartmentRegistry,
    format: RecordFormat = "markdown",
    locale: str = "zh-CN",
    time_zone: str | dt.tzinfo = DEFAULT_TIME_ZONE,
) -> str:
    """Render an event with its department's template for a format and locale.

    The department comes from the event's ``agent_type``. Templates autoescape HTML in
    both formats, since chat text is user input, and an undefined variable is an error.
    Templates get the zone as ``time_zone`` and show a state's UTC timestamp as local time
    with ``{{ value | local_time(time_zone) }}``.
    Absent data renders as "未提供" / "not provided" and an unassessed risk as
    "未评估" / "not assessed".
    """
    extension = _extension(format)
    locale = _check_locale(locale)
    zone = resolve_time_zone(time_zone)
    department = _department_of(event, registry)

    view = build_record_view(event, department, locale=locale, zone=zone)
    extra = _extra_context(registry, department, event, locale)
    environment = _environment(department.template_package)
    names = [f"{locale}/record.{extension}.j2", f"base/{locale}/record.{extension}.j2"]

    context = {"labels": LABELS[locale], "locale": locale, "time_zone": zone, "extra": extra}

    try:
        sections = _department_sections(environment, locale, context)
        template = environment.select_template(names)
        output = template.render(record=view, sections=sections, **context)
    except jinja2.TemplateError as error:
        raise RecordRenderError(" or ".join(names), f"{type(error).__name__}: {error}") from error

    logger.info("rendered event %s as %s (%s)", event.id, format, locale)
    output = _BLANK_LINE_RUNS.sub("\n\n", output)
    if extension == "md":
        # Quotes need no escaping in Markdown text; <, > and & stay escaped, so chat text
        # cannot inject HTML when the Markdown is turned into a page.
        output = output.replace("&#39;", "'").replace("&#34;", '"')
    return output


def _department_sections(
    environment: jinja2.Environment, locale: str, context: dict[str, Any]
) -> Any:
    """Load the department's section macros for a locale, or nothing when it has none.

    A department's ``templates/<locale>/sections.j2`` defines any of the macros
    ``department_findings``, ``auxiliary_examinations``, ``assessment`` and
    ``recommendations``, each called with the record view and an ``item`` macro that
    writes one list item in the output format.
    """
    try:
        template = environment.get_template(f"{locale}/sections.j2")
    except jinja2.TemplateNotFound:
        return {}
    return template.make_module(context)


def _extension(format: str) -> str:
    try:
        return RECORD_FORMATS[format]
    except KeyError:
        raise ConfigurationError(
            f"invalid record format {format!r}: use one of {', '.join(RECORD_FORMATS)}"
        ) from None


def _check_locale(locale: str) -> str:
    if locale not in SUPPORTED_LOCALES:
        raise ConfigurationError(
            f"unsupported locale {locale!r}: use one of {', '.join(SUPPORTED_LOCALES)}"
        )
    return locale


def _department_of(event: MedicalEvent, registry: DepartmentRegistry) -> Department:
    for department in registry:
        if department.event_agent_type == event.agent_type:
            return department
    return registry.resolve(event.agent_type)


def _extra_context(
    registry: DepartmentRegistry, department: Department, event: MedicalEvent, locale: str
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    results = registry.plugin_manager.hook.medrecord_record_context(
        department=department, event=event, locale=locale
    )
    # pluggy returns the results of the last registered plugin first.
    for result in reversed(results):
        if result:
            extra.update(result)
    return extra


@functools.lru_cache(maxsize=64)
def _environment(template_package: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_package is not None:
        try:
            loaders.append(jinja2.PackageLoader(template_package, "templates"))
        except ValueError:
            logger.info(
                "package %s has no templates folder; using the base templates", template_package
            )
    loaders.append(jinja2.PackageLoader("medrecord.records", "templates"))

    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["one_line"] = _one_line
    environment.filters["percent"] = _percent
    # The environment is cached per template package, so the zone of one render comes in
    # as a filter argument from the template context, not as an environment global.
    environment.filters["local_time"] = _local_time
    return environment


def _one_line(text: Any) -> str:
    """Join the lines of a text with spaces, so it stays inside one Markdown list item."""
    return " ".join(str(text).split())


def _local_time(value: dt.datetime, zone: dt.tzinfo) -> str:
    """Format an instant as "YYYY-MM-DD HH:MM" in a zone, reading a naive value as UTC."""
    return ensure_utc(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _percent(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    return str(value)
