"""conda-store-server 2025.2.2 run as a plan's conda-store pod runs it.

`conda_store_run(label)` (once per test run) takes the conda-store Deployment of plan `label` (conftest.all_plans),
its `server` and `worker` containers (files from the ConfigMaps and the Secret, environment as
the kubelet sets it: tests/support/container.py), and runs tests/runtimes/conda_store_driver.py
with .venv-conda-store's python where those files are at their in-container paths. The driver
starts the server's command, then the worker's, against one database, and makes the requests
given here through FastAPI's TestClient. What the driver fakes, and why, is in its docstring.

Both processes run in the worker container's file layout: the two containers mount the same
config and the same volume paths (checked here), and only the worker has the environment files.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from qhub.config import QHubConfig, load_file
from qhub.values import conda_store as values
from tests.conftest import ROOT, all_plans, plan_sources
from tests.support.container import Container, container_of, find, plan_objects, run_in
from tests.support.helm import stack_kubernetes_version
from tests.support.session_cache import shared

STORE_PYTHON = ROOT / ".venv-conda-store" / "bin" / "python"
DRIVER = ROOT / "tests" / "runtimes" / "conda_store_driver.py"
DEPLOYMENT = "conda-store"

# What tests/test_security_conda_store.py asks for without logging in: the paths of conda-store's
# unauthenticated metrics router under the public prefix (with and without a trailing slash),
# the same names at the root, and where in-cluster monitoring reads the metrics.
METRICS_PROBES = [
    *(f"{values.URL_PREFIX}/{name}{slash}" for name in ("metrics", "celery") for slash in ("", "/")),
    "/celery", values.METRICS_PATH,
]

# Requests made without logging in: the API's status, an environment list, a new environment in
# the shared namespace (refused unless authorised), and the metrics probes.
ANONYMOUS = [
    ["GET", f"{values.URL_PREFIX}/api/v1/"],
    ["GET", f"{values.URL_PREFIX}/api/v1/environment/"],
    ["POST", f"{values.URL_PREFIX}/api/v1/specification/",
     {"namespace": values.FILESYSTEM_NAMESPACE, "specification": "name: anonymous\ndependencies: [python]\n"}],
    *(["GET", path] for path in METRICS_PROBES),
]


class CondaStoreRunError(AssertionError):
    """conda-store did not start, or the driver failed."""


@dataclass(frozen=True)
class CondaStoreRun:
    """What the driver reported, with the plan's objects and the pod's containers."""

    label: str
    config: QHubConfig
    objects: list[dict[str, Any]]
    """Every object of the plan (QHub's and the rendered releases'), namespaces filled in."""
    server: Container
    worker: Container
    report: dict[str, Any]
    """The driver's JSON: uvicorn's settings, the worker's run, the hub requests conda-store made,
    the anonymous answers and each login's permissions (see the driver)."""


def _same_volumes(server: Container, worker: Container) -> None:
    """The worker's layout serves the server only if the server sees nothing the worker lacks."""
    missing = (set(server.files) - set(worker.files)) | (server.directories - worker.directories)
    if missing or server.env != worker.env:
        raise CondaStoreRunError(f"server and worker containers differ beyond the environment files: {sorted(missing)}")


@functools.cache
def conda_store_run(label: str) -> CondaStoreRun:
    """conda-store of plan `label`, run once per session, logging in every listed user."""
    plan = all_plans()[label]()
    config = load_file(plan_sources()[label]).config
    objects = plan_objects(plan, stack_kubernetes_version(config))
    deployment = find(objects, "Deployment", DEPLOYMENT, config.namespace)
    server = container_of(objects, deployment, "server")
    worker = container_of(objects, deployment, "worker")
    _same_volumes(server, worker)
    scenario = {"server": server.argv, "worker": worker.argv, "url_prefix": values.URL_PREFIX,
                "logins": list(config.security.users), "anonymous": ANONYMOUS}

    def report() -> dict[str, Any]:
        done = run_in(worker, [str(STORE_PYTHON), str(DRIVER)], input=json.dumps(scenario), timeout=300)
        if done.returncode != 0:
            raise CondaStoreRunError(f"{label}: conda-store exited with {done.returncode}:\n{done.stderr[-6000:]}")
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    # Once per test run, whichever pytest process asks first.
    return CondaStoreRun(label, config, objects, server, worker, shared(f"conda-store-report:{label}", report))

