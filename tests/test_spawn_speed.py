"""Fast spawns: every image a pod starts with is pulled onto its nodes before it lands, and warm
servers hold room on the user group, as the real hub, gateway and helm make them.

The pods are the real ones: each user's server of each profile it is offered, as the hub (the
chart's own jupyterhub_config.py with QHub's module, tests/support/hub.py) sends it to
Kubernetes, and each dask scheduler and worker the real dask-gateway controller makes
(tests/support/gateway.py). The pullers are z2jh's continuous-image-puller as the real helm
renders it, and QHub's own DaemonSets as planned. A pod is covered when a puller runs on the
same nodes (same node selector, tolerating what the pod tolerates) and pulls every image of the
pod; a puller pulls nothing that no pod of its nodes starts with (a GPU profile's image stays
off the CPU nodes).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

from qhub.config import QHubConfig, load_file
from qhub.values.image_puller import APP_LABEL
from qhub.values.spawn_speed import default_profile
from tests.conftest import all_plans, plan_sources
from tests.support.gateway import GatewayRuns, requests_for
from tests.support.hub import HubRun, hub_labels, hub_run, upcoming_labels

PLANS = all_plans()
SOURCES = plan_sources()
Z2JH_PULLER = "continuous-image-puller"
PLACEHOLDERS = "user-placeholder"
# The cluster autoscaler's --expendable-pods-priority-cutoff default: pods below it add no node.
AUTOSCALER_PRIORITY_CUTOFF = -10


@pytest.fixture(params=hub_labels(), scope="module")
def run(request: pytest.FixtureRequest) -> HubRun:
    return hub_run(request.param, upcoming=upcoming_labels(request, "run"))


def _images(pod_spec: Mapping[str, Any]) -> set[str]:
    return {c["image"] for c in [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]}


def _key(toleration: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(toleration.get(k) for k in ("key", "operator", "value", "effect"))


def pullers(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """z2jh's continuous puller and QHub's own: the DaemonSets that only pull."""
    return [o for o in objects if o["kind"] == "DaemonSet" and (
        o["metadata"]["name"] == Z2JH_PULLER or o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == APP_LABEL)]


def _pulled(puller: Mapping[str, Any]) -> set[str]:
    """What a puller pulls: its init containers' images (its pause container only holds the pod)."""
    return {c["image"] for c in puller["spec"]["template"]["spec"]["initContainers"]}


def covering(puller_objects: list[dict[str, Any]], pod_spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pullers that run on the nodes the pod lands on."""
    needed = {_key(t) for t in pod_spec.get("tolerations") or []}
    found = []
    for puller in puller_objects:
        spec = puller["spec"]["template"]["spec"]
        if spec.get("nodeSelector") == pod_spec.get("nodeSelector") and needed <= {_key(t) for t in spec.get("tolerations") or []}:
            found.append(puller)
    return found


def server_pods(run: HubRun) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for user in run.config.security.users:
        for profile in run.spawns(user):
            yield user, profile, run.pod(user, profile)["spec"]


def test_every_server_image_is_pulled_where_the_server_starts(run: HubRun) -> None:
    puller_objects = pullers(run.objects)
    assert Z2JH_PULLER in {p["metadata"]["name"] for p in puller_objects}
    for user, profile, spec in server_pods(run):
        pulled = set().union(*(_pulled(p) for p in covering(puller_objects, spec)))
        assert _images(spec) <= pulled, (run.label, user, profile, sorted(_images(spec) - pulled))


def test_user_servers_images_come_from_z2jhs_puller_the_rest_from_qhubs(run: HubRun) -> None:
    """The chart's puller covers the user group only; QHub's cover each other group a server starts on."""
    puller_objects = pullers(run.objects)
    (z2jh,) = [p for p in puller_objects if p["metadata"]["name"] == Z2JH_PULLER]
    user_selector = z2jh["spec"]["template"]["spec"]["nodeSelector"]
    for user, profile, spec in server_pods(run):
        covered = covering(puller_objects, spec)
        if spec["nodeSelector"] == user_selector:
            own = [p for p in covered if p["metadata"]["name"] == Z2JH_PULLER]
        else:
            own = [p for p in covered if p["metadata"]["name"].startswith("jupyterlab-images-")]
        assert own and _images(spec) <= set().union(*(_pulled(p) for p in own)), (user, profile)


def test_a_puller_pulls_only_what_starts_on_its_nodes(run: HubRun, gateway_runs: GatewayRuns) -> None:
    """No image goes onto nodes where nothing starts with it: a GPU profile's image is on its own
    GPU group only, dask images are not on user nodes."""
    pods = [spec for _, _, spec in server_pods(run)]
    made = gateway_runs[run.label].made
    pods += [m[role]["spec"] for m in made if "cluster" in m for role in ("scheduler", "worker")]
    for puller in pullers(run.objects):
        spec = puller["spec"]["template"]["spec"]
        here = set().union(*(_images(p) for p in pods if p.get("nodeSelector") == spec.get("nodeSelector")))
        assert _pulled(puller) <= here, (run.label, puller["metadata"]["name"], sorted(_pulled(puller) - here))


@pytest.fixture(params=list(PLANS))
def label(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_dask_images_are_pulled_where_schedulers_and_workers_start(label: str, gateway_runs: GatewayRuns) -> None:
    gateway = gateway_runs[label]
    config = load_file(SOURCES[label]).config
    puller_objects = pullers(gateway.objects)
    for request in (r for r in requests_for(config) if r.get("profile") in config.profiles.dask_worker):
        made = gateway.for_request(request)
        for role in ("scheduler", "worker"):
            spec = made[role]["spec"]
            own = [p for p in covering(puller_objects, spec) if p["metadata"]["name"].startswith("dask-images-")]
            assert own and _images(spec) <= set().union(*(_pulled(p) for p in own)), (request, role)


def test_qhubs_pullers_only_pull(label: str, gateway_runs: GatewayRuns) -> None:
    """Each init container's command exits at once (run here with a real shell), a pause
    container holds the pod, no service account token, and a deploy does not wait for the pulls."""
    objects = gateway_runs[label].objects
    own = [p for p in pullers(objects) if p["metadata"]["name"] != Z2JH_PULLER]
    assert own
    for puller in own:
        spec = puller["spec"]["template"]["spec"]
        for init in spec["initContainers"]:
            assert subprocess.run(init["command"], check=False, timeout=10).returncode == 0
        (pause,) = spec["containers"]
        assert pause["image"].startswith("registry.k8s.io/pause:") and "command" not in pause
        assert spec["automountServiceAccountToken"] is False
        assert puller["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
        # The NetworkPolicy of the same name fences them both ways (test_security_network_policies).
        (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == puller["metadata"]["name"]]
        assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []


def test_the_hook_puller_is_off(run: HubRun) -> None:
    """It would hold every `helm upgrade` until each user node pulled every image (see spawn_speed.py)."""
    names = {o["metadata"]["name"] for o in run.objects}
    assert "hook-image-puller" not in names and "hook-image-awaiter" not in names


def _quantity(value: Any) -> Decimal:
    return Decimal(str(value))


def _resources(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Decimal]]:
    return {kind: {name: _quantity(v) for name, v in values.items()} for kind, values in resources.items() if values}


def test_warm_servers_hold_room_like_the_default_profile(run: HubRun) -> None:
    config: QHubConfig = run.config
    placeholders = [o for o in run.objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == PLACEHOLDERS]
    if not config.jupyterhub.warm_servers:
        assert not placeholders
        return
    (placeholder,) = placeholders
    assert placeholder["spec"]["replicas"] == config.jupyterhub.warm_servers
    holder = placeholder["spec"]["template"]["spec"]
    # The real hub's server of the default profile: the room one placeholder holds is its room.
    user = next(u for u in config.security.users if default_profile(config).display_name in run.spawns(u))
    server = run.pod(user, default_profile(config).display_name)["spec"]
    (notebook,) = [c for c in server["containers"] if c["name"] == "notebook"]
    (pause,) = holder["containers"]
    assert _resources(pause["resources"]) == _resources(notebook["resources"])
    assert holder["nodeSelector"] == server["nodeSelector"] and holder["schedulerName"] == server["schedulerName"]
    # A user's server evicts a placeholder (lower priority), which still makes the autoscaler add
    # a node; the image pullers fit on nodes the placeholders fill.
    priorities = {o["metadata"]["name"]: o["value"] for o in run.objects if o["kind"] == "PriorityClass"}
    (z2jh,) = [p for p in pullers(run.objects) if p["metadata"]["name"] == Z2JH_PULLER]
    held = priorities[holder["priorityClassName"]]
    assert held < priorities[server["priorityClassName"]] and held < priorities[z2jh["spec"]["template"]["spec"]["priorityClassName"]]
    assert held >= AUTOSCALER_PRIORITY_CUTOFF
