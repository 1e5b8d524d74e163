"""ClusterOutputs: everything the platform layer may know about a cluster.

Each module in qhub/clouds returns one of these; qhub/platform sees only this, never a cloud
SDK, so the platform runs unchanged on every provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

# The taint every GPU node group carries; GPU pods tolerate it, nothing else lands there.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "present"
GPU_TAINT_EFFECT = "NoSchedule"


def toleration(key: str, value: str, effect: str) -> dict[str, str]:
    """A pod toleration of exactly the taint key=value:effect, as the Kubernetes API writes it."""
    return {"key": key, "operator": "Equal", "value": value, "effect": effect}


GPU_TOLERATION = toleration(GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT)


def tolerations_for(selector: Mapping[str, str], placements: Iterable[Placement]) -> list[dict[str, str]]:
    """The tolerations a pod with this node selector needs: those of every group whose own
    selector it includes (the groups it can land on), each toleration once."""
    needed: list[dict[str, str]] = []
    for placement in placements:
        if placement.node_selector.items() <= selector.items():
            needed.extend(dict(t) for t in placement.tolerations if dict(t) not in needed)
    return needed


# RFC 1918: the private address ranges.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True)
class Placement:
    """How pods land on one node group: the labels that select its nodes, and the tolerations
    of the taints those nodes carry (GPU groups', AKS spot pools')."""

    node_selector: Mapping[str, str]
    tolerations: Sequence[Mapping[str, str]] = ()


@dataclass(frozen=True)
class NfsEndpoint:
    """A managed NFS server (EFS, Filestore, Azure Files NFS) holding the shared drive."""

    server: pulumi.Input[str]
    """DNS name or address of the NFS server."""
    path: str = "/"
    """Exported path to mount."""
    mount_options: tuple[str, ...] = ("nfsvers=4.1", "rsize=1048576", "wsize=1048576", "hard", "timeo=600", "retrans=2")
    """NFS mount options for the PersistentVolume."""


@dataclass(frozen=True)
class ReservedAddress:
    """A static public IP reserved at the cloud for the ingress controller's load balancer, so a
    re-created Service gets the same address and the domain's record stays right."""

    ip: pulumi.Input[str]
    """The address: what the domain's A record points at."""
    by_address: bool = False
    """The Service asks for it by address (spec.loadBalancerIP), as GKE expects."""
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations by which the cloud's controller takes it (Azure: its name and resource group)."""
    ready: Sequence[pulumi.Resource] = ()
    """What the Service must wait for before it can take the address (Azure: the cluster's role on it)."""


# Roles of the block disks the platform binds a claim to (ClusterOutputs.disks).
SHARED_DISK = "shared"
"""The in-cluster NFS server's disk: every home and group folder."""
CONDA_STORE_DISK = "conda-store"
"""conda-store's volume: its database, build artifacts and environments."""


@dataclass(frozen=True)
class CloudDisk:
    """A block disk the cloud layer owns for one claim: protected, outside the cluster's
    lifetime, and snapshotted on a schedule where the cloud offers one."""

    csi_driver: str
    """The CSI driver that attaches it, e.g. pd.csi.storage.gke.io."""
    volume_handle: pulumi.Input[str]
    """The driver's id of the disk (a GCE disk path, an Azure disk resource id, an EBS volume id)."""
    size: str
    """The size it was created with, as the QHub file gives it; it grows through the claim."""
    zone_label: str | None = None
    """The node label naming zones, when the disk is zonal."""
    zone: pulumi.Input[str] | None = None
    """The zone the disk lives in: pods using it are scheduled there."""
    fs_type: str = "ext4"
    """The file system the driver makes on the empty disk and mounts."""
    ready: Sequence[pulumi.Resource] = ()
    """The disk and what attaching it needs (the cluster's access to it): the volume waits for them."""


@dataclass(frozen=True)
class ClusterOutputs:
    """The uniform result of building a cluster on any provider."""

    name: pulumi.Input[str]
    """The cluster's name at the cloud."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig to reach the cluster (a secret Output)."""
    k8s_provider: k8s.Provider
    """The Kubernetes provider every platform resource must use explicitly."""
    node_selectors: Mapping[str, Mapping[str, str]]
    """Node labels that place pods on each node group, by group name."""
    storage_class: str
    """Block storage class for ReadWriteOnce volumes (the in-cluster NFS server, conda-store)."""
    nfs: NfsEndpoint | None = None
    """Managed NFS for the shared drive; None means the platform runs its own NFS server."""
    registry_url: pulumi.Input[str] | None = None
    """Container registry for custom images, when the cloud has one."""
    ingress_service_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations on the ingress controller's LoadBalancer Service (cloud load balancer type)."""
    ingress_address: ReservedAddress | None = None
    """The static IP the ingress controller's load balancer takes, where the cloud reserves one."""
    gpu_node_groups: Sequence[str] = ()
    """Node groups with NVIDIA GPUs, tainted nvidia.com/gpu=present:NoSchedule."""
    node_tolerations: Mapping[str, Sequence[Mapping[str, str]]] = field(default_factory=dict)
    """Tolerations a pod needs to run on each node group, by group name: one per taint the
    group's nodes carry, whether the program sets it (GPU groups) or the cloud does (AKS spot
    pools). A group missing here carries no taint."""
    node_cidrs: Sequence[pulumi.Input[str]] = ()
    """Address ranges the nodes' own addresses come from, for network plugins that match node
    addresses by ipBlock: the kubelet mounts NFS volumes from them, so in-cluster NFS servers
    admit them. Empty where that is not known or cannot work (an existing cluster; Cilium, which
    names remote nodes by identity, not by CIDR): the NFS port is then open to any address, and
    the clients' own egress policies fence it."""
    disks: Mapping[str, CloudDisk] = field(default_factory=dict)
    """Disks the cloud layer made for the platform's claims, by role (SHARED_DISK, CONDA_STORE_DISK);
    a role missing here gets a disk provisioned dynamically from `storage_class`."""
    ready: Sequence[pulumi.Resource] = ()
    """Resources the platform must wait for (node groups, add-ons) before it schedules pods."""
    exports: Mapping[str, pulumi.Input[object]] = field(default_factory=dict)
    """Stack outputs of the cloud layer: cluster name, region, registry URLs."""

    def selector(self, group: str) -> dict[str, str]:
        """Node selector of one group (a copy, safe to put into values)."""
        return dict(self.node_selectors[group])

    def tolerations(self, group: str) -> list[dict[str, str]]:
        """Tolerations of one group's taints (copies, safe to put into values)."""
        return [dict(t) for t in self.node_tolerations.get(group, ())]

    def placements(self) -> list[Placement]:
        """Every group's selector and tolerations, in config order."""
        return [Placement(self.selector(group), self.tolerations(group)) for group in self.node_selectors]
