"""The DOKS cluster and its node pools, at the config's Kubernetes version.

Creates: the cluster (protected on production stacks: the hub's database and dynamically
provisioned volumes live in it), whose default pool is the `general` group and autoscales
(QHub's had a fixed size); a `KubernetesNodePool` per other group, each autoscaling between the group's min
and max; the nvidia.com/gpu taint on GPU groups, whose driver and device plugin DOKS runs itself.
Reads: the DOKS version slug of the configured minor (DigitalOcean names builds `1.35.1-do.0`).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_digitalocean as do

from qhub.cluster import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE
from qhub.config.providers.digitalocean import DigitalOcean, DigitalOceanNodeGroup

# Label DOKS puts on every node: the platform selects a group's nodes by it.
NODE_POOL_LABEL = "doks.digitalocean.com/node-pool"
GROUP_LABEL = "qhub.dev/node-group"
DEFAULT_POOL = "general"


def version_prefix(version: str) -> str | None:
    """What to look the slug up by: None when the config already names a slug (`1.35.1-do.0`)."""
    if "-do." in version:
        return None
    # "1.35" -> "1.35." and "1.35.1" -> "1.35.1-", so "1.3" never matches "1.30".
    return f"{version}." if re.fullmatch(r"\d+\.\d+", version) else f"{version}-"


def doks_version(block: DigitalOcean, provider: do.Provider, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The version slug: the configured one, or the newest DOKS build of the configured version."""
    prefix = version_prefix(block.kubernetes_version)
    if prefix is None:
        return block.kubernetes_version
    # A new build shows as a diff in the next preview, so upgrades are reviewed, never silent.
    return do.get_kubernetes_versions_output(
        version_prefix=prefix, opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent)
    ).latest_version


def pool_labels(group_name: str) -> dict[str, str]:
    """Labels of a group's nodes besides the pool label DOKS sets."""
    return {GROUP_LABEL: group_name}


def pool_taints(group: DigitalOceanNodeGroup) -> list[tuple[str, str, str]]:
    """(key, value, effect) of each taint: GPU groups admit only pods tolerating nvidia.com/gpu."""
    return [(GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT)] if group.is_gpu else []


def default_pool(group: DigitalOceanNodeGroup, tags: list[str]) -> do.KubernetesClusterNodePoolArgs:
    """The cluster's built-in pool: the general group."""
    return do.KubernetesClusterNodePoolArgs(
        name=DEFAULT_POOL,
        size=group.instance,
        auto_scale=True,
        # DOKS keeps at least one node in the default pool, or the cluster has nowhere to run.
        min_nodes=max(group.min_nodes, 1),
        max_nodes=max(group.max_nodes, 1),
        labels=pool_labels(DEFAULT_POOL),
        taints=[do.KubernetesClusterNodePoolTaintArgs(key=k, value=v, effect=e) for k, v, e in pool_taints(group)],
        tags=tags,
    )


def make_cluster(name: str, block: DigitalOcean, version: pulumi.Input[str], vpc: do.Vpc, tags: list[str],
                 provider: do.Provider, parent: pulumi.Resource, registry: pulumi.Resource | None,
                 *, production: bool = False) -> do.KubernetesCluster:
    """The DOKS cluster with the general group as its default pool."""
    has_gpus = any(group.is_gpu for group in block.node_groups.values())
    return do.KubernetesCluster(
        f"{name}-doks",
        name=name,
        region=block.region,
        version=version,
        vpc_uuid=vpc.id,
        # The config pins the version; DigitalOcean still upgrades a minor at its end of support.
        auto_upgrade=False,
        surge_upgrade=True,
        maintenance_policy=do.KubernetesClusterMaintenancePolicyArgs(day="sunday", start_time="04:00"),
        node_pool=default_pool(block.node_groups[DEFAULT_POOL], tags),
        # Pull secrets for the account's registry in every namespace.
        registry_integration=registry is not None,
        nvidia_gpu_device_plugin=do.KubernetesClusterNvidiaGpuDevicePluginArgs(enabled=True) if has_gpus else None,
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent, provider=provider, depends_on=[registry] if registry is not None else [],
            # The autoscaler owns the node count.
            ignore_changes=["nodePool.nodeCount"],
            protect=production,
        ),
    )


def make_node_pool(name: str, group_name: str, group: DigitalOceanNodeGroup, cluster: do.KubernetesCluster,
                   tags: list[str], provider: do.Provider, parent: pulumi.Resource) -> do.KubernetesNodePool:
    """The pool of one node group other than general."""
    return do.KubernetesNodePool(
        f"{name}-{group_name}",
        cluster_id=cluster.id,
        name=group_name,
        size=group.instance,
        auto_scale=True,
        min_nodes=group.min_nodes,
        max_nodes=group.max_nodes,
        labels=pool_labels(group_name),
        taints=[do.KubernetesNodePoolTaintArgs(key=k, value=v, effect=e) for k, v, e in pool_taints(group)],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, ignore_changes=["nodeCount"]),
    )
