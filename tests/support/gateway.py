"""Plans' dask-gateways, run as their pods run them, with the real dask-gateway-server.

The dask-gateway release is rendered by the real helm (tests/support/helm.py). Its gateway
Deployment's container is laid out by tests/support/container.py: the rendered ConfigMap's
dask_gateway_config.py at /etc/dask-gateway/ (the chart's whole config file: the chart values
it embeds, its authenticator and backend settings, QHub's `gateway.extraConfig` pasted in), and
the environment the pod spec gives it (QHub's settings variable, JUPYTERHUB_API_TOKEN from its
Secret key, the namespace's Service variables). tests/support/gateway_process.py runs each plan's
gateway in a process of its own, inside a private mount namespace (`run_in`), with the
container's command line; the controller Deployment's command line and files go with it, so the
pods come from the controller's own code and config.

All plans a test session needs run in one batch (one `run_in`, one process per plan forked
from it), since importing the server costs seconds of CPU per process; each plan is asked every
request of `requests_for` its config once, and tests read the answers.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from qhub.config import QHubConfig, load_file
from qhub.offline.engine import Plan
from qhub.values.dask_gateway import RELEASE_NAME
from tests.conftest import all_plans, plan_of_label, plan_sources
from tests.support.container import Container, container_of, plan_objects, run_in
from tests.support.helm import stack_kubernetes_version

PROCESS = Path(__file__).with_name("gateway_process.py")
RESULT_MARKER = "QHUB-GATEWAY-RESULT "
COMPONENT_LABEL = "app.kubernetes.io/component"
# A profile no config has: the gateway must refuse it.
UNKNOWN_PROFILE = "No Such Worker"
USER = {"name": "gateway-test-user", "groups": ["users"]}


class GatewayProcessError(AssertionError):
    """The gateway process failed: its config did not load, or a request broke it."""


def release_workload(objects: Iterable[Mapping[str, Any]], component: str) -> Mapping[str, Any]:
    """The dask-gateway release's Deployment of one component (gateway, controller, traefik)."""
    (found,) = [o for o in objects if o.get("kind") == "Deployment"
                and o["metadata"].get("labels", {}).get("app.kubernetes.io/instance") == RELEASE_NAME
                and o["spec"]["template"]["metadata"]["labels"].get(COMPONENT_LABEL) == component]
    return found


def requests_for(config: QHubConfig) -> list[dict[str, str]]:
    """The defaults, an unknown profile, and every worker profile with every conda environment."""
    environments = [env.name for env in config.environments.values()]
    requests: list[dict[str, str]] = [{}, {"profile": UNKNOWN_PROFILE}]
    for profile in config.profiles.dask_worker:
        requests.extend({"profile": profile, "conda_environment": env} for env in environments)
        if not environments:
            requests.append({"profile": profile})
    return requests


@dataclass(frozen=True)
class GatewayRun:
    """What one plan's gateway process reported, and the container it ran as."""

    gateway: dict[str, Any]
    """The authenticator's and backend's classes and settings, as the config file left them."""
    cluster_options: list[dict[str, Any]]
    """The options specification a client's Gateway.cluster_options() receives."""
    made: list[dict[str, Any]]
    """Per request: "cluster" (the DaskCluster), "scheduler", "worker", "service", "ingressroute",
    "ingressroutetcp" as the controller makes them; or "error" when the gateway refused it."""
    container: Container
    objects: list[dict[str, Any]]
    """Every object of the plan (QHub's and the rendered releases'), namespaces filled in."""

    def option(self, field: str) -> dict[str, Any]:
        (found,) = [o for o in self.cluster_options if o["field"] == field]
        return found

    def for_request(self, request: Mapping[str, str]) -> dict[str, Any]:
        (found,) = [m for m in self.made if m["request"] == dict(request)]
        return found


@dataclass(frozen=True)
class _Prepared:
    gateway: Container
    controller: Container
    objects: list[dict[str, Any]]
    requests: list[dict[str, str]]

    def given(self) -> dict[str, Any]:
        return {
            "gateway": {"argv": self.gateway.argv, "env": self.gateway.env, "working_dir": self.gateway.working_dir,
                        "files": {path: content.decode() for path, content in self.gateway.files.items()}},
            "controller": {"argv": self.controller.argv,
                           "files": {path: content.decode() for path, content in self.controller.files.items()}},
            "user": USER,
            "requests": self.requests,
        }


def _prepare(plan: Plan, config: QHubConfig) -> _Prepared:
    objects = plan_objects(plan, stack_kubernetes_version(config))
    return _Prepared(
        container_of(objects, release_workload(objects, "gateway"), "gateway"),
        container_of(objects, release_workload(objects, "controller"), "controller"),
        objects, requests_for(config),
    )


def run_gateways(plans: Mapping[str, tuple[Plan, QHubConfig]]) -> dict[str, GatewayRun]:
    """Each plan's gateway, asked every request of requests_for(its config)."""
    prepared = {label: _prepare(plan, config) for label, (plan, config) in plans.items()}
    # The mount namespace the plans' processes share: writable overlays where their files go.
    host = Container("gateway-host", "", [], {}, directories={
        str(PurePosixPath(path).parent) for p in prepared.values() for path in p.gateway.files})
    done = run_in(host, [sys.executable, str(PROCESS)], input=json.dumps({k: p.given() for k, p in prepared.items()}))
    results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if done.returncode != 0 or not results:
        raise GatewayProcessError(f"the gateway host process failed ({done.returncode}):\n{done.stderr[-4000:]}")
    runs = {}
    for label, outcome in json.loads(results[-1][len(RESULT_MARKER):]).items():
        if "error" in outcome:
            raise GatewayProcessError(f"{label}: the gateway failed:\n{outcome['error']}")
        result = outcome["result"]
        runs[label] = GatewayRun(result["gateway"], result["cluster_options"], result["clusters"],
                                 prepared[label].gateway, prepared[label].objects)
    return runs


class GatewayRuns:
    """The gateway runs of a test session, made in one batch for every label it will ask for."""

    def __init__(self, wanted: Iterable[str], plan_of: Mapping[str, Any], config_of: Mapping[str, Any]) -> None:
        self.wanted = set(wanted)
        self.plan_of = plan_of
        self.config_of = config_of
        self.runs: dict[str, GatewayRun] = {}

    def __getitem__(self, label: str) -> GatewayRun:
        if label not in self.runs:
            batch = (self.wanted | {label}) - set(self.runs)
            self.runs.update(run_gateways({name: (self.plan_of[name](), self.config_of[name]()) for name in sorted(batch)}))
        return self.runs[label]


FIXTURE = "gateway_runs"
_SESSION: list[GatewayRuns] = []


def _config(path: Path) -> QHubConfig:
    return load_file(path).config


def session_runs(session: pytest.Session) -> GatewayRuns:
    """The session's GatewayRuns: one batch for the `label` of every collected test that uses
    the FIXTURE fixture (shared by the test modules that ask about gateways)."""
    if not _SESSION:
        wanted = {item.callspec.params["label"] for item in session.items
                  if FIXTURE in getattr(item, "fixturenames", ()) and "label" in getattr(getattr(item, "callspec", None), "params", {})}
        # Labels beyond all_plans(): fixtures only their own tests plan (conftest.plan_of_label).
        extra = {label: plan_of_label(label) for label in wanted - set(all_plans())}
        plans = {**all_plans(), **{label: thunk for label, (thunk, _) in extra.items()}}
        sources = {**plan_sources(), **{label: path for label, (_, path) in extra.items()}}
        configs = {label: functools.partial(_config, path) for label, path in sources.items()}
        _SESSION.append(GatewayRuns(wanted, plans, configs))
    return _SESSION[0]
