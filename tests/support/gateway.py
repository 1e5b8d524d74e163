"""Plans' dask-gateways, run as their pods run them, with the real dask-gateway-server.

The dask-gateway release is rendered by the real helm (tests/support/helm.py). Its gateway
Deployment's container is laid out by tests/support/container.py: the rendered ConfigMap's
dask_gateway_config.py at /etc/dask-gateway/ (the chart's whole config file: the chart values
it embeds, its authenticator and backend settings, QHub's `gateway.extraConfig` pasted in), and
the environment the pod spec gives it (QHub's settings variable, JUPYTERHUB_API_TOKEN from its
Secret key, the namespace's Service variables). tests/support/gateway_process.py runs each plan's
gateway in a process of its own, inside a private mount namespace where the container's files
are at their paths, with the container's environment and command line; the controller
Deployment's command line and files go with it, so the pods come from the controller's own code
and config.

Each plan's gateway runs once per test run, forked from a process that imported the server
(tests/support/fork_server.py), since importing it costs seconds of CPU per process; each plan
is asked every request of `requests_for` its config once, and tests read the answers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qhub.config import QHubConfig, load_file
from qhub.offline.engine import Plan
from qhub.values.dask_gateway import RELEASE_NAME
from tests.conftest import plan_of_label
from tests.support.container import Container, container_of, plan_objects
from tests.support.fork_server import ForkServer
from tests.support.helm import stack_kubernetes_version
from tests.support.session_cache import shared

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
            "gateway": {"argv": self.gateway.argv},
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


# The gateway processes of this pytest process: children of one that imported the server.
GATEWAY_SERVER = ForkServer(Path(sys.executable), PROCESS)


def run_gateway(label: str, plan: Plan, config: QHubConfig) -> GatewayRun:
    """The plan's gateway, asked every request of requests_for(its config), once per test run
    (whichever pytest process asks first runs it)."""
    prepared = _prepare(plan, config)

    def outcome() -> dict[str, Any]:
        done = GATEWAY_SERVER.run(prepared.gateway, input=json.dumps(prepared.given()))
        results = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARKER)]
        if done.returncode != 0 or not results:
            raise GatewayProcessError(f"{label}: the gateway process failed ({done.returncode}):\n{done.stderr[-4000:]}")
        answer: dict[str, Any] = json.loads(results[-1][len(RESULT_MARKER):])
        return answer

    result = shared(f"gateway-run:{label}", outcome)
    return GatewayRun(result["gateway"], result["cluster_options"], result["clusters"], prepared.gateway, prepared.objects)


class GatewayRuns:
    """The gateway runs of a test run by plan label: any of conftest.all_plans(), or any
    fixture (conftest.plan_of_label), run on first use."""

    def __init__(self) -> None:
        self.runs: dict[str, GatewayRun] = {}

    def __getitem__(self, label: str) -> GatewayRun:
        if label not in self.runs:
            thunk, source = plan_of_label(label)
            self.runs[label] = run_gateway(label, thunk(), load_file(source).config)
        return self.runs[label]


GATEWAY_RUNS = GatewayRuns()
