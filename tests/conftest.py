"""Shared fixtures: plans of the repository's stacks and of the compat configs, made once per run."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from qhub.config import load_file
from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import Plan, plan_program

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).parent / "fixtures"
STACKS = ("staging", "prod")
COMPAT_CONFIGS = sorted((SHARED / "compat-configs" / "qhub-ops").glob("*.yaml")) if SHARED.exists() else []


@functools.cache
def plan_stack(stack: str) -> Plan:
    """The offline plan of one of the repository's stacks (cached: plans are read-only)."""
    path = stack_config_file(stack, ROOT)
    provider = load_file(path).config.provider.value
    return plan_program(path, stack, provider, extra_config=stack_settings(stack, ROOT))


@functools.cache
def plan_config(path: Path, stack: str = "dev") -> Plan:
    """The offline plan of any QHub file, as stack `dev`."""
    provider = load_file(path).config.provider.value
    return plan_program(path, stack, provider)


@pytest.fixture(params=STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    return plan_stack(request.param)
