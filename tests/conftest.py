"""Shared fixtures: plans of the repository's stacks and of the compat configs, made once per run."""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from qhub.config import load_file
from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import Plan, plan_program

ROOT = Path(__file__).resolve().parents[1]

def _shared_dir() -> Path:
    """The project's shared folder (compat configs, chart schemas): beside the checkout as on the
    development machines, or where QHUB_SHARED_DIR points."""
    candidates = [os.environ.get("QHUB_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "compat-configs").is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared_dir()
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


def plan_sources() -> dict[str, Path]:
    """The QHub file of every config the repository promises to plan (see all_plans)."""
    sources = {f"stack-{s}": stack_config_file(s, ROOT) for s in STACKS}
    sources.update({f"compat-{p.stem}": p for p in COMPAT_CONFIGS})
    sources.update({f"fixture-{p.stem}": p for p in sorted((FIXTURES / "configs").glob("*.happy*.yaml"))})
    return sources


def all_plans() -> dict[str, Callable[[], Plan]]:
    """Every config the repository promises to plan: the stacks, the compat configs and each
    provider's happy fixtures. Values are thunks, so collecting tests plans nothing."""
    plans: dict[str, Callable[[], Plan]] = {f"stack-{s}": functools.partial(plan_stack, s) for s in STACKS}
    plans.update({label: functools.partial(plan_config, path) for label, path in plan_sources().items()
                  if not label.startswith("stack-")})
    return plans


def plan_of_label(label: str) -> tuple[Callable[[], Plan], Path]:
    """The plan (a thunk) and QHub file of a label: one of all_plans(), or `fixture-<stem>` of
    any other fixture, which only the tests that ask for it plan (e.g. azure.spot)."""
    plans, sources = all_plans(), plan_sources()
    if label in plans:
        return plans[label], sources[label]
    path = FIXTURES / "configs" / f"{label.removeprefix('fixture-')}.yaml"
    if not label.startswith("fixture-") or not path.exists():
        raise KeyError(label)
    return functools.partial(plan_config, path), path


# Support modules that run an upstream program once per plan and keep its report for the session
# (the hub, the gateway, conda-store). The tests using them share one pytest worker
# (scripts/test runs two, `--dist loadgroup`), so each program runs once per plan in the run.
RUNTIME_SUPPORT = ("tests.support.hub", "tests.support.gateway", "tests.support.conda_store")


def _uses_runtimes(module: types.ModuleType) -> bool:
    for value in vars(module).values():
        name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        if name in RUNTIME_SUPPORT:
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and _uses_runtimes(module):
            item.add_marker(pytest.mark.xdist_group("runtimes"))


@pytest.fixture(autouse=True, scope="session")
def _private_verdict_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`qhub validate` caches verdicts; the tests keep theirs away from the user's cache."""
    os.environ["QHUB_CACHE_DIR"] = str(tmp_path_factory.mktemp("verdicts"))
