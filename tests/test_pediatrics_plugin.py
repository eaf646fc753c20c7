"""Tests of the pediatrics department, the plugin installed from examples/pediatrics."""

from __future__ import annotations

from typing import Any

import pytest

from medrecord import DepartmentRegistry, read_agent_state
from medrecord.testing.conformance import check_department


@pytest.fixture(scope="module")
def pediatrics_schema(installed_registry: DepartmentRegistry) -> Any:
    return installed_registry.resolve("pediatrics").state_schema


@pytest.mark.parametrize("name", ["pediatrics", "pedia", "peds", "儿科", "PEDS"])
def test_pediatrics_found_by_entry_point(installed_registry: DepartmentRegistry, name: str) -> None:
    department = installed_registry.resolve(name)

    assert department.code == "pediatrics"
    assert installed_registry.plugin_of("pediatrics") == "pediatrics"


def test_pediatrics_department_fields(installed_registry: DepartmentRegistry) -> None:
    department = installed_registry.resolve("pediatrics")

    assert department.event_agent_type == "pedia"
    assert department.display_name("zh-CN") == "儿科"
    assert department.display_name("en") == "Pediatrics"
    assert department.template_package == "medrecord_pediatrics"
    assert department.description["zh-CN"]
    assert department.description["en"]


def test_pediatrics_conforms(installed_registry: DepartmentRegistry) -> None:
    department = installed_registry.resolve("pediatrics")

    assert check_department(department, installed_registry) == []


def test_pediatrics_state_reads_intake(pediatrics_schema: Any) -> None:
    raw = {
        "child_age": "8个月",
        "child_sex": "女宝",
        "weight_kg": "9公斤",
        "feeding": "母乳加辅食",
        "vaccination_history": "按计划接种",
        "max_temperature_celsius": "39.2℃",
        "medications_taken": "布洛芬混悬液、小儿氨酚黄那敏",
        "possible_diseases": ["上呼吸道感染", {"name": "小儿支气管炎", "probability": 0.3}],
        "symptoms": ["发热", "咳嗽"],
    }

    reading = read_agent_state(raw, pediatrics_schema)

    assert reading.problems == []
    state = reading.state
    assert state.child_age == "8个月"
    assert state.child_sex == "female"
    assert state.weight_kg == 9.0
    assert state.max_temperature_celsius == 39.2
    assert state.medications_taken == ["布洛芬混悬液", "小儿氨酚黄那敏"]
    assert [disease.name for disease in state.possible_diseases] == ["上呼吸道感染", "小儿支气管炎"]
    assert state.possible_diseases[1].probability == 0.3
    assert state.risk_level is None


@pytest.mark.parametrize(
    ("written", "kilograms"),
    [("12", 12.0), ("12kg", 12.0), ("12 公斤", 12.0), ("24斤", 12.0), ("3500g", 3.5), (7.5, 7.5)],
)
def test_pediatrics_weight_units(pediatrics_schema: Any, written: Any, kilograms: float) -> None:
    reading = read_agent_state({"weight_kg": written}, pediatrics_schema)

    assert reading.problems == []
    assert reading.state.weight_kg == pytest.approx(kilograms)


@pytest.mark.parametrize(
    ("written", "celsius"),
    [("38.5", 38.5), ("39度", 39.0), ("38.5°C", 38.5), ("101.3°F", 38.5), (37.8, 37.8)],
)
def test_pediatrics_temperature_units(pediatrics_schema: Any, written: Any, celsius: float) -> None:
    reading = read_agent_state({"max_temperature_celsius": written}, pediatrics_schema)

    assert reading.problems == []
    assert reading.state.max_temperature_celsius == pytest.approx(celsius)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", "很重"),
        ("weight_kg", 0),
        ("weight_kg", 500),
        ("max_temperature_celsius", 102),
        ("child_sex", "unknown"),
    ],
)
def test_pediatrics_invalid_value_reported(pediatrics_schema: Any, field: str, value: Any) -> None:
    reading = read_agent_state({field: value, "child_age": "2岁"}, pediatrics_schema)

    assert [problem.field for problem in reading.problems] == [field]
    assert reading.state.child_age == "2岁"


def test_pediatrics_blank_text_is_absent(pediatrics_schema: Any) -> None:
    reading = read_agent_state(
        {"child_age": " ", "feeding": "", "child_sex": ""}, pediatrics_schema
    )

    assert reading.problems == []
    assert reading.state.child_age is None
    assert reading.state.feeding is None
    assert reading.state.child_sex is None
