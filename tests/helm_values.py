"""Helm's view of values: chart defaults merged with ours, then checked against the chart schema."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.conftest import SHARED

CHART_SCHEMAS = SHARED / "chart-schemas"


def helm_merge(defaults: Any, override: Any) -> Any:
    """Merge user values over chart defaults as Helm does: maps recursively, lists and scalars
    replaced, and a null in the override removes the key."""
    if not isinstance(defaults, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(defaults)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@cache
def chart_defaults(chart: str) -> dict[str, Any]:
    return yaml.safe_load((CHART_SCHEMAS / f"{chart}.values.yaml").read_text()) or {}


@cache
def chart_validator(chart: str) -> jsonschema.protocols.Validator:
    schema = json.loads((CHART_SCHEMAS / f"{chart}.values.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_errors(chart: str, values: dict[str, Any]) -> list[str]:
    """Every schema error of `values` merged over the chart's defaults."""
    merged = helm_merge(chart_defaults(chart), values)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in chart_validator(chart).iter_errors(merged)]
