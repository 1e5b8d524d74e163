"""One autoscaling GKE node pool per node group of the config.

Creates: a `gcp.container.NodePool` per group at the pinned node version, autoscaling between
the group's min and max nodes *per zone* (GKE's rule), auto-repair on and auto-upgrade off (the
config pins the version), Workload Identity metadata, the nodes' service account; GPU groups
get their `guest_accelerator` with GKE-managed driver installation and the nvidia.com/gpu taint.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.cluster import GPU_TAINT_KEY, GPU_TAINT_VALUE, toleration
from qhub.config.providers.gcp import GcpNodeGroup

# GKE's name for the Kubernetes NoSchedule effect.
NO_SCHEDULE = "NO_SCHEDULE"
# GKE labels Spot nodes cloud.google.com/gke-spot=true but taints them only when the pool asks
# (https://cloud.google.com/kubernetes-engine/docs/how-to/spot-vms). QHub's spot pools ask, with
# the taint that page gives, so that only pods which tolerate losing their node land there:
# cluster add-ons and system pods without a node selector stay on on-demand nodes.
SPOT_TAINT_KEY = "cloud.google.com/gke-spot"
SPOT_TAINT_VALUE = "true"
SPOT_TOLERATION = toleration(SPOT_TAINT_KEY, SPOT_TAINT_VALUE, "NoSchedule")
# Label GKE puts on every node: the platform selects a group's nodes by it.
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
GROUP_LABEL = "qhub.dev/node-group"
# GPUs built into accelerator-optimized machine types: (accelerator, count) by machine type.
_BUILT_IN_GPUS = {
    **{f"g2-standard-{n}": ("nvidia-l4", 1) for n in (4, 8, 12, 16, 32)},
    "g2-standard-24": ("nvidia-l4", 2), "g2-standard-48": ("nvidia-l4", 4), "g2-standard-96": ("nvidia-l4", 8),
    **{f"a2-highgpu-{n}g": ("nvidia-tesla-a100", n) for n in (1, 2, 4, 8)},
    "a2-megagpu-16g": ("nvidia-tesla-a100", 16),
    **{f"a2-ultragpu-{n}g": ("nvidia-a100-80gb", n) for n in (1, 2, 4, 8)},
    **{f"a3-highgpu-{n}g": ("nvidia-h100-80gb", n) for n in (1, 2, 4, 8)},
}


def accelerators(group: GcpNodeGroup) -> list[tuple[str, int]]:
    """GPUs per node: the configured ones, else those built into the machine type."""
    if group.guest_accelerators:
        return [(a.type, a.count) for a in group.guest_accelerators]
    # A machine type missing from the table (a4, g4, ...) gets the GPUs GKE attaches by default.
    built_in = _BUILT_IN_GPUS.get(group.instance)
    return [built_in] if built_in else []


def node_config(group_name: str, group: GcpNodeGroup, service_account: pulumi.Input[str]) -> gcp.container.NodePoolNodeConfigArgs:
    """Machine, disk, identity, labels and GPU settings of one pool's nodes."""
    gpus = accelerators(group) if group.is_gpu else []
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=group.instance,
        disk_size_gb=group.disk_size_gb,
        disk_type="pd-balanced",
        image_type="COS_CONTAINERD",
        spot=group.spot,
        service_account=service_account,
        # Access is governed by the service account's IAM roles, as Google recommends.
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        labels={GROUP_LABEL: group_name},
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True,
        ),
        guest_accelerators=[
            gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                type=kind, count=count,
                # GKE installs the driver and runs its own device plugin: nothing to deploy.
                gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                    gpu_driver_version="DEFAULT",
                ),
            )
            for kind, count in gpus
        ] or None,
        taints=[
            *([gcp.container.NodePoolNodeConfigTaintArgs(key=GPU_TAINT_KEY, value=GPU_TAINT_VALUE, effect=NO_SCHEDULE)]
              if group.is_gpu else []),
            *([gcp.container.NodePoolNodeConfigTaintArgs(key=SPOT_TAINT_KEY, value=SPOT_TAINT_VALUE, effect=NO_SCHEDULE)]
              if group.spot else []),
        ] or None,
    )


def make_node_pool(name: str, group_name: str, group: GcpNodeGroup, cluster: gcp.container.Cluster,
                   node_version: pulumi.Input[str], service_account: pulumi.Input[str],
                   provider: gcp.Provider, parent: pulumi.Resource) -> gcp.container.NodePool:
    """The pool of one node group."""
    return gcp.container.NodePool(
        f"{name}-{group_name}",
        name=group_name,
        project=cluster.project,
        cluster=cluster.name,
        location=cluster.location,
        version=node_version,
        initial_node_count=group.min_nodes,
        autoscaling=gcp.container.NodePoolAutoscalingArgs(
            min_node_count=group.min_nodes,
            max_node_count=group.max_nodes,
            # Spot capacity comes from wherever it is free; on-demand stays balanced over zones.
            location_policy="ANY" if group.spot else "BALANCED",
        ),
        management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=False),
        upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
        node_config=node_config(group_name, group, service_account),
        # The autoscaler owns the node count; the initial count only matters at creation.
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, ignore_changes=["initialNodeCount", "nodeCount"]),
    )
