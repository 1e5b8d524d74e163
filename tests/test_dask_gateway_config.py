"""The staging stack's cluster options, figure by figure, as its gateway really resolves them.

tests/support/gateway.py runs the staging plan's gateway container (the rendered
dask_gateway_config.py, with QHub's extraConfig in it, under dask-gateway-server 2026.3.0) and its
controller; the figures here are those of stacks/staging.yaml. Every plan's options and pods are
checked in tests/test_gateway_runtime.py.
"""

from __future__ import annotations

import json

import pytest

from qhub.config import QHubConfig, load_file
from qhub.values import dask_gateway as values
from qhub.values.conda_store import CondaMount
from tests.conftest import ROOT
from tests.support.gateway import GatewayRun, GatewayRuns

GIB = 2**30
STAGING = "stack-staging"


@pytest.fixture
def run(gateway_runs: GatewayRuns, label: str) -> GatewayRun:
    return gateway_runs[label]


def _staging() -> QHubConfig:
    return load_file(ROOT / "stacks" / "staging.yaml").config


def _arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("label", [STAGING])
def test_medium_worker_exact_figures(run: GatewayRun) -> None:
    """stacks/staging.yaml: Medium Worker is 1.5 cores (2 at most) and 6G (8G at most); the
    server reads G as 2**30 bytes, and the worker's memory limit is also dask's."""
    assert _staging().profiles.dask_worker["Medium Worker"].worker_memory == "6G"
    (worker,) = run.for_request({"profile": "Medium Worker", "conda_environment": "default"})["worker"]["spec"]["containers"]
    assert worker["resources"] == {"requests": {"cpu": "1.500", "memory": str(6 * GIB)},
                                   "limits": {"cpu": "2.000", "memory": str(8 * GIB)}}
    assert _arg(worker["args"], "--memory-limit") == str(8 * GIB)


@pytest.mark.parametrize("label", [STAGING])
def test_idle_timeout_and_max_workers(run: GatewayRun) -> None:
    """Idle clusters stop (dask-gateway's default is never), and a cluster's size is capped."""
    config = _staging()
    made = run.for_request({})
    (scheduler,) = made["scheduler"]["spec"]["containers"]
    assert float(_arg(scheduler["args"], "--dg-idle-timeout")) == config.dask_gateway.idle_timeout_minutes * 60 > 0
    assert made["cluster"]["spec"]["config"]["cluster_max_workers"] == config.dask_gateway.cluster_max_workers


def test_settings_are_plain_json() -> None:
    """The settings travel in an environment variable: JSON with nothing lost."""
    config = _staging()
    settings = values.gateway_settings(config, worker_selector={"g": "worker"}, gpu_selector=None, conda=CondaMount())
    assert json.loads(json.dumps(settings)) == settings
