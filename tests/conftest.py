"""Shared fixtures: plans of the repository's stacks and of the compat configs, made once per run."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from qhub.config import load_file
from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import Plan, plan_program
from tests.support.session_cache import SESSION_DIR_ENV, create_session_dir, shared

if TYPE_CHECKING:
    from tests.support.gateway import GatewayRuns

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


def plan_stack(stack: str) -> Plan:
    """The offline plan of one of the repository's stacks (made once per run: plans are read-only)."""
    def make() -> Plan:
        path = stack_config_file(stack, ROOT)
        provider = load_file(path).config.provider.value
        return plan_program(path, stack, provider, extra_config=stack_settings(stack, ROOT))
    return shared(f"plan-stack:{stack}", make)


def plan_config(path: Path, stack: str = "dev") -> Plan:
    """The offline plan of any QHub file, as stack `dev` (made once per run)."""
    def make() -> Plan:
        provider = load_file(path).config.provider.value
        return plan_program(path, stack, provider)
    return shared(f"plan-config:{Path(path).resolve()}:{stack}", make)


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


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process makes the run's shared directory (tests/support/session_cache.py)
    before pytest-xdist starts its workers, which inherit it through the environment. Always a
    new one: a directory named in the environment already is another run's (a pytest started
    from a test), whose results were made from other files."""
    if not hasattr(config, "workerinput"):
        outer = os.environ.get(SESSION_DIR_ENV)
        directory = create_session_dir()
        config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
        config.add_cleanup(lambda: os.environ.update({SESSION_DIR_ENV: outer}) if outer else os.environ.pop(SESSION_DIR_ENV, None))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The type check runs in the background from now on when its tests are among those to run."""
    if any(item.get_closest_marker("typecheck") for item in session.items):
        from tests.support import typecheck

        typecheck.start()


@pytest.fixture(scope="session")
def gateway_runs() -> GatewayRuns:
    """The plans' dask-gateways, each run once per test run (tests/support/gateway.py)."""
    from tests.support.gateway import GATEWAY_RUNS

    return GATEWAY_RUNS


@pytest.fixture(autouse=True, scope="session")
def _private_verdict_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`qhub validate` caches verdicts; the tests keep theirs away from the user's cache."""
    os.environ["QHUB_CACHE_DIR"] = str(tmp_path_factory.mktemp("verdicts"))
