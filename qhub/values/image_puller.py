"""QHub's own image pullers: a DaemonSet per node group that only pulls images onto its nodes.

z2jh's continuous pre-puller runs where user servers run by default (the chart gives its
DaemonSet `singleuser.nodeSelector` and the user pods' tolerations, and no way to scope an extra
image to other nodes), so it covers the user group only. The images that start elsewhere (a GPU
profile's on its GPU group, dask schedulers' and workers' on the worker group, GPU workers' on
their GPU group) are pulled by these: per image an init container that exits at once (the
kubelet pulls its image to start it), then a pause container that holds the pod, so a node the
autoscaler adds pulls them as soon as it joins, before the first pod that needs them lands.

Pure data: the DaemonSet's metadata and spec, and the name of the NetworkPolicy that fences its
pods (they need no network: the kubelet pulls, not the pod).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qhub.versions import PAUSE_IMAGE

APP_LABEL = "qhub-image-puller"
"""`app.kubernetes.io/name` of every puller pod."""
# Least privilege: nobody, no capabilities, the runtime's seccomp profile, nothing written.
_USER = 65534
_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
}
RESOURCES = {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}}
"""Of each puller container (QHub's and z2jh's): each starts a shell that exits, or sleeps in
pause, in a few MiB. A pod's request is its largest init container's or its pause container's."""
# A pulled image has nothing left to do; /bin/sh is what z2jh's own pullers run too.
_EXIT_AT_ONCE = ["/bin/sh", "-c", "exit 0"]
_NAME_LIMIT = 63


@dataclass(frozen=True)
class PullSet:
    """Images to pull onto the nodes of one placement."""

    name: str
    """The DaemonSet's (and its NetworkPolicy's) name."""
    node_selector: Mapping[str, str]
    """Where the pods that use these images run."""
    tolerations: tuple[Mapping[str, Any], ...]
    """The taints of those nodes that those pods tolerate (the GPU taint)."""
    images: tuple[str, ...]
    """Image references, each once, in the order they are pulled."""


def puller_name(prefix: str, group: str) -> str:
    """A DNS label for the puller of `group`: `<prefix>-<group>`, shortened with a hash if long."""
    slug = re.sub(r"[^a-z0-9-]+", "-", f"{prefix}-{group}".lower()).strip("-")
    if len(slug) <= _NAME_LIMIT:
        return slug
    digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
    return f"{slug[:_NAME_LIMIT - 9].rstrip('-')}-{digest}"


def unique(images: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(images))


def pod_labels(pull: PullSet) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/instance": pull.name, "app.kubernetes.io/part-of": "qhub"}


def _container(name: str, image: str, command: list[str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image}
    if command:
        container["command"] = list(command)
    container["resources"] = {key: dict(value) for key, value in RESOURCES.items()}
    container["securityContext"] = {key: (dict(value) if isinstance(value, dict) else value) for key, value in _CONTAINER_SECURITY.items()}
    return container


def daemon_set(pull: PullSet) -> dict[str, Any]:
    """The DaemonSet of one pull set: `metadata` (but its namespace) and `spec`."""
    labels = pod_labels(pull)
    return {
        "metadata": {
            "name": pull.name, "labels": dict(labels),
            # A deploy does not wait for new nodes' pulls of multi-GB images (its timeout would
            # fail it); pods that need an image before its pull is done pull it themselves.
            "annotations": {"pulumi.com/skipAwait": "true"},
        },
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/instance": pull.name}},
            # Pulling is harmless to running pods: a changed image list rolls every node at once.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": dict(pull.node_selector),
                    **({"tolerations": [dict(t) for t in pull.tolerations]} if pull.tolerations else {}),
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 0,
                    "securityContext": {
                        "runAsNonRoot": True, "runAsUser": _USER, "runAsGroup": _USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [_container(f"pull-{index}", image, _EXIT_AT_ONCE) for index, image in enumerate(pull.images)],
                    "containers": [_container("pause", PAUSE_IMAGE)],
                },
            },
        },
    }
