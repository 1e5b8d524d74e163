"""The hub of a plan, run as the hub pod runs it.

`hub_run(label)` takes one plan of conftest's all_plans() (or of any fixture: plan_of_label),
renders its Helm releases with the real helm (tests/support/helm.py), lays out the hub
container of the rendered `hub` Deployment, its files and its environment from the rendered and
planned ConfigMaps and Secrets (tests/support/container.py), and runs tests/runtimes/hub_driver.py in it with the hub image's
own packages (.venv-hub): the chart's jupyterhub_config.py loads unchanged, JupyterHub
initializes, each user logs in through the authenticator's own pages, and every profile anyone
is offered is spawned by every user up to the pod the hub sends to Kubernetes. One hub per plan
and test run, forked from a process that imported JupyterHub once (tests/support/fork_server.py)
and shared by the pytest workers; the tests assert on its report. While the tests assert on one
plan's report, the next plan's hub runs (`upcoming`).

The only thing the tests make up about a login is what the identity provider answers
(`identity`): GitHub's and Auth0's user information for the user who logs in.
"""

from __future__ import annotations

import configparser
import json
import re
import zlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest

from qhub.cluster import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE
from qhub.clouds.aws.nodegroups import NODE_GROUP_LABEL as AWS_LABEL
from qhub.clouds.azure.aks import GROUP_LABEL as AZURE_LABEL
from qhub.clouds.digitalocean.doks import NODE_POOL_LABEL as DO_LABEL
from qhub.clouds.gcp.nodepools import NODEPOOL_LABEL as GCP_LABEL
from qhub.config import QHubConfig, load_file
from qhub.config.security import Auth0Auth, GitHubAuth, PasswordAuth
from qhub.values.jupyterhub import ADMIN_PASSWORD_ENV, PASSWORD_ENV
from tests.conftest import ROOT, all_plans, plan_of_label
from tests.support.container import Container, container_of, find, plan_objects, run_in, stand_in_secret
from tests.support.fork_server import ForkServer
from tests.support.helm import stack_kubernetes_version
from tests.support.session_cache import shared

HUB_PYTHON = ROOT / ".venv-hub" / "bin" / "python"
DRIVER = ROOT / "tests" / "runtimes" / "hub_driver.py"
# The hub image's WORKDIR (the pod spec does not say it): the chart's sqlite URL is relative to it.
HUB_WORKDIR = "/srv/jupyterhub"
# The z2jh hub Deployment and its container.
HUB_DEPLOYMENT = "hub"
HUB_CONTAINER = "hub"
# Who tries to log in besides the listed users, and who must not spawn.
UNLISTED_USER = "not-listed"
STALE_USER = "no-longer-listed"
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Equal", "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}
# The label each cloud module puts into ClusterOutputs.node_selectors ({label: group}).
GROUP_LABELS = {"aws": AWS_LABEL, "gcp": GCP_LABEL, "do": DO_LABEL, "azure": AZURE_LABEL}


class HubRunError(AssertionError):
    """The hub process failed (the chart's config, JupyterHub's checks, or the driver)."""


@dataclass(frozen=True)
class HubRun:
    """One plan's hub, run: what the tests assert on."""

    label: str
    config: QHubConfig
    objects: list[dict[str, Any]]
    """Every Kubernetes object of the plan (QHub's and the rendered charts')."""
    container: Container
    report: dict[str, Any]
    """The driver's report: hub (JupyterHub's state after initialize), logins, users (offered
    profiles and, per profile slug, the pod or the error of its spawn), stale_users, and
    service_logins ("<service>/<user>": the OAuth exchange of a service that logs users in
    through the hub, tests/runtimes/hub_driver.py)."""

    def offered(self, user: str) -> list[dict[str, Any]]:
        return list(self.report["users"][user]["offered"])

    def spawns(self, user: str) -> dict[str, dict[str, Any]]:
        """Profile display name -> spawn result, for the profiles `user` is offered."""
        results = self.report["users"][user]["spawns"]
        return {p["display_name"]: results[p["slug"]] for p in self.offered(user)}

    def pod(self, user: str, display_name: str) -> dict[str, Any]:
        """The pod the hub sent to Kubernetes when `user` spawned this profile."""
        result = self.spawns(user)[display_name]
        if "pod" not in result:
            raise AssertionError(f"{self.label}: {user}'s spawn of {display_name!r} failed: {result.get('error')}")
        return result["pod"]  # type: ignore[no-any-return]

    def object(self, kind: str, name: str, namespace: str | None = None) -> Any:
        return find(self.objects, kind, name, namespace)


def group_selector(config: QHubConfig, group: str) -> dict[str, str]:
    """ClusterOutputs.selector(group) of this config's cloud: the node label of a group."""
    if config.provider.value == "existing":
        chosen = config.cloud.node_selectors[group]  # type: ignore[union-attr]
        return {chosen.key: chosen.value}
    return {GROUP_LABELS[config.provider.value]: group}


def identity(config: QHubConfig, name: str, *, verified: bool = True) -> dict[str, Any]:
    """What the identity provider answers OAuthenticator's user-information request for `name`
    (made up: GitHub's GET /user, Auth0's GET /userinfo, with the fields the authenticators read)."""
    auth = config.security.authentication
    if isinstance(auth, Auth0Auth):
        return {"sub": f"auth0|{zlib.crc32(name.encode())}", "email": name, "email_verified": verified, "name": name}
    return {"login": name, "id": zlib.crc32(name.encode()), "name": name, "email": None}


def logins(config: QHubConfig, container: Container) -> list[dict[str, Any]]:
    """Every listed user, then those who must be refused: someone not listed, and per login type
    a wrong password or an unverified e-mail address of a listed user."""
    auth = config.security.authentication
    admins = set(config.security.members("admin"))
    users = list(config.security.users)
    if isinstance(auth, PasswordAuth):
        # The passwords as the hub has them: from the hub Secret, by the container's environment.
        user_password, admin_password = container.env[PASSWORD_ENV], container.env[ADMIN_PASSWORD_ENV]
        listed = [{"label": n, "user": n, "password": admin_password if n in admins else user_password} for n in users]
        plain = next(n for n in users if n not in admins)
        return [*listed, {"label": "unlisted", "user": UNLISTED_USER, "password": user_password},
                {"label": "wrong-password", "user": plain, "password": user_password + "-wrong"}]
    assert isinstance(auth, (GitHubAuth, Auth0Auth))
    unlisted = f"{UNLISTED_USER}@example.invalid" if isinstance(auth, Auth0Auth) else UNLISTED_USER
    listed = [{"label": n, "user": n, "identity": identity(config, n)} for n in users]
    refused = [{"label": "unlisted", "user": unlisted, "identity": identity(config, unlisted)}]
    if isinstance(auth, Auth0Auth):
        refused.append({"label": "unverified-email", "user": users[0], "identity": identity(config, users[0], verified=False)})
    return [*listed, *refused]


GRAFANA_DEPLOYMENT = "grafana"
GRAFANA_CONTAINER = "grafana"
_GRAFANA_ENV = re.compile(r"\$__env\{([^}]+)\}")


def grafana_ini(container: Container) -> configparser.ConfigParser:
    """grafana.ini as the Grafana container reads it: the rendered chart's file at its path in the
    container, with `$__env{NAME}` expanded from the container's environment, as Grafana does."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(container.files["/etc/grafana/grafana.ini"].decode())
    for section in ini.sections():
        for key, value in ini.items(section):
            ini.set(section, key, _GRAFANA_ENV.sub(lambda m: container.env[m[1]], value))
    return ini


def service_logins(config: QHubConfig, objects: list[dict[str, Any]], hub: Container) -> list[dict[str, Any]]:
    """The services that log users in through the hub, as the driver plays them: Grafana, with the
    client id, secret, redirect URI and URLs its rendered grafana.ini gives (the authorize URL on
    the public host, the token and user URLs in the cluster: the driver sends each to the hub by
    its path); every listed user logs in."""
    if not config.monitoring.enabled:
        return []
    deployment = find(objects, "Deployment", GRAFANA_DEPLOYMENT, config.namespace)
    grafana = container_of(objects, deployment, GRAFANA_CONTAINER)
    ini = grafana_ini(grafana)
    oauth, root = ini["auth.generic_oauth"], ini["server"]["root_url"]
    return [{
        "name": "grafana", "client_id": oauth["client_id"], "client_secret": oauth["client_secret"],
        "redirect_uri": root.rstrip("/") + "/login/generic_oauth",
        "authorize_path": urlparse(oauth["auth_url"]).path, "token_path": urlparse(oauth["token_url"]).path,
        "user_path": urlparse(oauth["api_url"]).path,
        "logins": [entry for entry in logins(config, hub) if entry["label"] in config.security.users],
    }]


def metrics_scrapes(config: QHubConfig, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prometheus' scrape of the hub, as QHub's ServiceMonitor says: its path, and the token of the
    Secret key it names (the stand-in value the hub's environment has for the same key)."""
    monitors = [o for o in objects if o.get("kind") == "ServiceMonitor" and o["metadata"]["name"] == "qhub-hub"]
    scrapes = []
    for monitor in monitors:
        (endpoint,) = monitor["spec"]["endpoints"]
        credentials = endpoint["authorization"]["credentials"]
        scrapes.append({"name": monitor["metadata"]["name"], "path": endpoint["path"],
                        "token": stand_in_secret(credentials["name"], credentials["key"])})
    return scrapes


def hub_labels() -> list[str]:
    """Labels of every plan the repository promises (conftest.all_plans)."""
    return sorted(all_plans())


# The hub processes of this pytest process: children of one process that imported JupyterHub.
HUB_SERVER = ForkServer(HUB_PYTHON, DRIVER)


def hub_job(config: QHubConfig, objects: list[dict[str, Any]], container: Container) -> dict[str, Any]:
    """What the driver is asked to do with a plan's hub (tests/runtimes/hub_driver.py)."""
    return {"argv": container.argv, "logins": logins(config, container), "stale_users": [STALE_USER],
            "service_logins": service_logins(config, objects, container), "metrics_scrapes": metrics_scrapes(config, objects)}


def run_hub_report(label: str, container: Container, job: dict[str, Any], *, fresh: bool = False) -> dict[str, Any]:
    """The driver's report of one hub run: forked from HUB_SERVER, or with `fresh` in a
    process of its own started as the hub pod starts it (run_in)."""
    if fresh:
        done = run_in(container, [str(HUB_PYTHON), str(DRIVER)], input=json.dumps(job), cwd=HUB_WORKDIR, timeout=300)
    else:
        done = HUB_SERVER.run(container, input=json.dumps(job), cwd=HUB_WORKDIR, timeout=300)
    if done.returncode != 0:
        raise HubRunError(f"{label}: the hub exited with {done.returncode}:\n{done.stderr[-6000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _run_hub(label: str, config: QHubConfig, objects: list[dict[str, Any]], container: Container) -> HubRun:
    # One run per plan in the whole test run, whichever pytest process asks first.
    report = shared(f"hub-report:{label}", lambda: run_hub_report(label, container, hub_job(config, objects, container)))
    return HubRun(label, config, objects, container, report)


# Hub runs of this pytest process by plan label, in the background: the next plan's hub runs
# while the tests assert on this one's report. One at a time, as HUB_SERVER serves them.
_RUNNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-run")
_RUNS: dict[str, Future[HubRun]] = {}


def _start(label: str) -> Future[HubRun]:
    """Plan and lay out the hub container here (the offline engine runs on the main thread),
    then run the hub in the background."""
    if label not in _RUNS:
        try:
            thunk, source = plan_of_label(label)
            plan = thunk()
            config = load_file(source).config
            objects = plan_objects(plan, stack_kubernetes_version(config))
            container = container_of(objects, find(objects, "Deployment", HUB_DEPLOYMENT, config.namespace), HUB_CONTAINER)
        except Exception as error:  # reported to whoever asks for this label, not to a prefetching caller
            failed: Future[HubRun] = Future()
            failed.set_exception(error)
            _RUNS[label] = failed
        else:
            _RUNS[label] = _RUNNER.submit(_run_hub, label, config, objects, container)
    return _RUNS[label]


def hub_run(label: str, upcoming: Sequence[str] = ()) -> HubRun:
    """The hub of plan `label`, run once per session. `upcoming`: labels the caller will ask for
    later, in order; the first not started yet starts now, so that it runs meanwhile."""
    future = _start(label)
    for later in upcoming:
        if later not in _RUNS:
            _start(later)
            break
    return future.result()


def upcoming_labels(request: pytest.FixtureRequest, param: str) -> list[str]:
    """The plan labels that the session's remaining tests will ask for through the fixture
    `param` (its values in collection order, after this one)."""
    labels = [str(item.callspec.params[param]) for item in request.session.items
              if isinstance(item, pytest.Function) and hasattr(item, "callspec") and param in item.callspec.params]
    current = request.param
    return list(dict.fromkeys(labels[labels.index(current) + 1:] if current in labels else labels))
