"""Least privilege in every container QHub defines itself, in every plan.

QHub's own Deployments (conda-store, SSH, the in-cluster NFS server) and DaemonSets (the image
pullers) as planned, and the init container the hub adds to every user pod as the real hub's
spawn makes it (tests/support/hub.py): no privilege escalation, no capabilities but those a
named need adds back, the runtime's seccomp profile, a non-root user, CPU and memory requests
and a memory limit. Privileged containers only where the kernel or upstream leaves no choice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.conftest import all_plans
from tests.support.api_schemas import qhub_objects
from tests.support.hub import hub_run

PLANS = all_plans()

# (workload, container) -> why it runs privileged (said where each is defined, too).
PRIVILEGED = {
    ("conda-store", "nfs-server"): "the kernel's NFS server exporting the store",
    ("qhub-nfs-server", "nfs-server"): "the kernel's NFS server exporting the shared drive",
}
# (workload, container) -> capabilities added back, and why.
ADDED_CAPABILITIES = {
    ("user pod", "qhub-home"): ({"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"},
                                "creates users' folders, hands them over and keeps the group folders' setgid bit"),
}


def _containers(pod_spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from pod_spec.get("initContainers") or []
    yield from pod_spec.get("containers") or []


def problems(workload: str, pod_spec: Mapping[str, Any]) -> list[str]:
    """What a pod spec's containers do beyond least privilege."""
    found = []
    pod_context = pod_spec.get("securityContext") or {}
    for container in _containers(pod_spec):
        where = f"{workload}/{container['name']}"
        context = container.get("securityContext") or {}
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        if not {"cpu", "memory"} <= set(requests) or "memory" not in limits:
            found.append(f"{where}: needs CPU and memory requests and a memory limit, has {resources}")
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if context.get("privileged"):
            if (workload, container["name"]) not in PRIVILEGED:
                found.append(f"{where}: privileged with no recorded need")
            continue
        if seccomp != "RuntimeDefault":
            found.append(f"{where}: seccomp profile {seccomp!r}, not RuntimeDefault")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation is not false")
        capabilities = context.get("capabilities") or {}
        if capabilities.get("drop") != ["ALL"]:
            found.append(f"{where}: drops {capabilities.get('drop')}, not ALL")
        added, _ = ADDED_CAPABILITIES.get((workload, container["name"]), (set(), ""))
        if set(capabilities.get("add") or []) != added:
            found.append(f"{where}: adds {capabilities.get('add')}, expected {sorted(added)}")
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if not non_root and not added:
            found.append(f"{where}: may run as root (runAsNonRoot {non_root}, runAsUser {user})")
        if non_root and not isinstance(user, int):
            # The kubelet checks runAsNonRoot against the image's user, and refuses to start a
            # container whose image names its user (USER jovyan) instead of giving a number.
            found.append(f"{where}: runAsNonRoot without a numeric runAsUser")
    return found


@pytest.mark.parametrize("label", list(PLANS))
def test_qhubs_own_workloads_run_with_least_privilege(label: str) -> None:
    # Deployments and DaemonSets (the image pullers, qhub/values/image_puller.py).
    workloads = [o.manifest for o in qhub_objects(PLANS[label]()) if o.manifest.get("kind") in ("Deployment", "DaemonSet")]
    assert {w["metadata"]["name"] for w in workloads} >= {"conda-store", "jupyterhub-ssh", "dask-images-worker"}
    found = [problem for w in workloads for problem in problems(w["metadata"]["name"], w["spec"]["template"]["spec"])]
    assert not found, "\n".join(found)


def test_user_pods_home_init_container_runs_with_least_privilege() -> None:
    run = hub_run("stack-staging")
    user = next(iter(run.config.security.users))
    (display_name, _), *_ = run.spawns(user).items()
    pod = run.pod(user, display_name)
    (init,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "qhub-home"]
    # Only the init container is QHub's; the notebook container is z2jh's and KubeSpawner's.
    assert not problems("user pod", {**pod["spec"], "initContainers": [init], "containers": []})
    # Root with four capabilities and nothing else: it makes folders for other users.
    assert init["securityContext"]["runAsUser"] == 0


def test_the_privileged_exceptions_are_the_only_ones_and_all_exist() -> None:
    """Each recorded exception is in some plan (so the list is not stale)."""
    seen = set()
    for label in ("stack-staging", "fixture-gcp.happy"):
        for o in qhub_objects(PLANS[label]()):
            if o.manifest.get("kind") == "Deployment":
                for container in _containers(o.manifest["spec"]["template"]["spec"]):
                    if (container.get("securityContext") or {}).get("privileged"):
                        seen.add((o.manifest["metadata"]["name"], container["name"]))
    assert seen == set(PRIVILEGED)
