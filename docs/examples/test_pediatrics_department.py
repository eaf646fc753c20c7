"""Tests a department package ships, written with medrecord's testing kit.

The fixtures ``medrecord_registry`` and ``medrecord_department_conformance`` come from the
``pytest11`` entry point of medrecord, so installing medrecord is all the set-up they need.
The strategies of ``medrecord.testing.strategies`` need hypothesis. This file tests the
pediatrics plugin from examples/pediatrics, which must be installed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medrecord import Department, DepartmentRegistry, read_agent_state
from medrecord.testing.strategies import agent_states

PEDIATRIC_FIELDS = {
    "child_age": st.sampled_from(["2岁", "8个月", "三个多月", " "]),
    "child_sex": st.sampled_from(["女宝", "男孩", "M", "unknown"]),
    "weight_kg": st.one_of(
        st.floats(min_value=0, max_value=300), st.sampled_from(["24斤", "很重"])
    ),
    "max_temperature_celsius": st.sampled_from(["39度", "101.3°F", 102, 38.5]),
}


def test_pediatrics_registered(medrecord_registry: DepartmentRegistry) -> None:
    department = medrecord_registry.resolve("儿科")

    assert department.code == "pediatrics"
    assert medrecord_registry.plugin_of("pediatrics") == "pediatrics"


def test_pediatrics_conforms(
    medrecord_registry: DepartmentRegistry,
    medrecord_department_conformance: Callable[[Department], list[str]],
) -> None:
    department = medrecord_registry.resolve("pediatrics")

    assert medrecord_department_conformance(department) == []


@pytest.mark.parametrize(("written", "canonical"), [("女宝", "female"), ("男孩", "male")])
def test_child_sex_spellings(
    medrecord_registry: DepartmentRegistry, written: str, canonical: str
) -> None:
    schema = medrecord_registry.resolve("pediatrics").state_schema

    reading = read_agent_state({"child_sex": written}, schema)

    assert reading.problems == []
    assert reading.state.model_dump()["child_sex"] == canonical


@settings(max_examples=60, deadline=None)
@given(raw=agent_states(extra_fields=PEDIATRIC_FIELDS, include_invalid=True))
def test_any_stored_state_reads(
    medrecord_registry: DepartmentRegistry, raw: dict[str, object]
) -> None:
    schema = medrecord_registry.resolve("pediatrics").state_schema

    reading = read_agent_state(raw, schema)

    reported = {problem.field for problem in reading.problems}
    stored_risk = raw.get("risk_level")
    if stored_risk is None or (isinstance(stored_risk, str) and not stored_risk.strip()):
        assert reading.state.risk_level is None
    if "triage_note" in raw:
        assert (reading.state.model_extra or {}).get("triage_note") == raw["triage_note"]
    for field in ("weight_kg", "max_temperature_celsius"):
        if field in raw and getattr(reading.state, field) is None:
            assert field in reported
