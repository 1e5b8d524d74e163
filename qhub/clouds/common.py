"""Pieces every managed cloud of QHub shares.

Creates: the `pulumi_kubernetes.Provider` made from a cluster's kubeconfig and, where the cloud
does not run one itself, the NVIDIA device plugin (Helm) that advertises `nvidia.com/gpu`.
Also the `protection` stack output, which says what `pulumi destroy` stops at and what to
unprotect on purpose, and the sizes and schedule of the disks the clouds own for user data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import CONDA_STORE_DISK, GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TOLERATION, SHARED_DISK
from qhub.config.base import parse_quantity
from qhub.config.model import Storage
from qhub.config.providers.common import NodeGroup
from qhub.helm import release
from qhub.versions import NVIDIA_DEVICE_PLUGIN_CHART

# The label the NVIDIA device plugin chart's default node affinity selects GPU nodes by.
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
DEVICE_PLUGIN_NAMESPACE = "nvidia-device-plugin"


def exec_kubeconfig(cluster: str, server: str, ca_data: str, exec_spec: Mapping[str, object]) -> str:
    """A kubeconfig (JSON, which kubectl reads as YAML) whose user runs an exec credential plugin."""
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "interactiveMode": "Never", **exec_spec}}
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": cluster, "user": user}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
    })


# Scheduled snapshots start at this hour, UTC (a quiet hour for most teams; the clouds spread
# the actual start over the following hour or so).
SNAPSHOT_HOUR_UTC = 3


def size_gib(quantity: str, minimum: int = 1) -> int:
    """A Kubernetes quantity as whole GiB, rounded up (clouds size disks in GiB)."""
    size = parse_quantity(quantity)
    assert size is not None  # the config model accepts sizes only
    return max(math.ceil(size / 2**30), minimum)


def disk_sizes(storage: Storage, roles: Sequence[str], minimum: int = 1) -> dict[str, int]:
    """GiB of each disk the cloud makes for the platform, by role (SHARED_DISK, CONDA_STORE_DISK)."""
    quantities = {SHARED_DISK: storage.shared_filesystem, CONDA_STORE_DISK: storage.conda_store}
    return {role: size_gib(quantities[role], minimum) for role in roles}


def protection_notice(production: bool, cluster: str | None) -> str:
    """The `protection` stack output: what stops `pulumi destroy`, and how to get past it on purpose.

    `cluster` names the cluster the stack owns; None for a cluster the stack only uses.
    """
    data = ("The disks, claims and registry holding users' data are protected; to delete them on purpose, "
            "back them up, then `pulumi state unprotect <urn>` each (`pulumi stack --show-urns` lists them).")
    if cluster is None:
        return "The cluster is not this stack's (provider existing), so QHub neither deletes nor protects it. " + data
    if production:
        return (f"Production stack: the {cluster} is protected (the QHub file's `production`, on for stacks named "
                "prod or production), so `pulumi destroy` fails in its preview before deleting anything. To delete "
                "the cluster on purpose, set `production: false` in the stack's QHub file and run `pulumi up` first. " + data)
    return (f"The {cluster} is not protected (set `production: true` in the QHub file to protect it). " + data)


def make_k8s_provider(name: str, kubeconfig: pulumi.Input[str], parent: pulumi.Resource,
                      depends_on: Sequence[pulumi.Resource] = ()) -> k8s.Provider:
    """The provider every Kubernetes resource on the cluster is given explicitly."""
    return k8s.Provider(
        name,
        kubeconfig=kubeconfig,
        # Never fall back to whatever cluster the ambient kubeconfig points at.
        delete_unreachable=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def group_tolerations(groups: Mapping[str, NodeGroup], gpu_groups: Sequence[str],
                      spot_tolerations: Sequence[Mapping[str, str]] = ()) -> dict[str, list[dict[str, str]]]:
    """ClusterOutputs.node_tolerations of a cloud's groups: GPU groups tolerate the GPU taint the
    program gives them, spot groups the taints the cloud itself puts on spot nodes
    (`spot_tolerations`; none where the cloud adds none)."""
    tolerations: dict[str, list[dict[str, str]]] = {}
    for group_name, group in groups.items():
        needed = [dict(GPU_TOLERATION)] if group_name in gpu_groups else []
        if group.spot:
            needed.extend(dict(t) for t in spot_tolerations)
        if needed:
            tolerations[group_name] = needed
    return tolerations


def nvidia_device_plugin(name: str, k8s_provider: k8s.Provider, parent: pulumi.Resource,
                         after: Sequence[pulumi.Resource],
                         also_tolerate: Sequence[Mapping[str, str]] = ()) -> k8s.helm.v3.Release:
    """The upstream NVIDIA device plugin, pinned, on nodes labelled nvidia.com/gpu.present=true;
    `also_tolerate`: taints the cloud itself puts on GPU nodes of some pools (AKS spot pools)."""
    return release(
        name, NVIDIA_DEVICE_PLUGIN_CHART, "nvidia-device-plugin", DEVICE_PLUGIN_NAMESPACE,
        # The chart's default affinity already requires the GPU label the groups carry; it must
        # also tolerate their taint, or no GPU is ever advertised.
        {"tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT},
                         *(dict(t) for t in also_tolerate)]},
        pulumi.ResourceOptions(parent=parent, provider=k8s_provider, depends_on=list(after)),
        create_namespace=True,
    )
