"""The GKE control plane, at the config's Kubernetes version, with its default node pool removed.

Creates: one `gcp.container.Cluster`: regional (a single entry in availability_zones makes it
zonal), private nodes on the stack's VPC-native subnet, Workload Identity, NetworkPolicy
enforcement by Calico, no release channel so versions move only when the config does;
protected, and GKE's deletion protection on, on production stacks. Reads: the newest GKE build
of the configured minor.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_gcp as gcp

from qhub.clouds.gcp.network import PODS_RANGE, SERVICES_RANGE, Network
from qhub.config.providers.gcp import GoogleCloudPlatform

# "1.35.4" or "1.35.4-gke.1100000" name one build; "1.35" names a minor to resolve.
_FULL_VERSION = re.compile(r"^\d+\.\d+\.\d+")


def cluster_location(block: GoogleCloudPlatform) -> str:
    """The zone of a zonal cluster (exactly one availability zone), else the region."""
    return block.availability_zones[0] if len(block.availability_zones) == 1 else block.region


def node_locations(block: GoogleCloudPlatform, provider: gcp.Provider, parent: pulumi.Resource) -> pulumi.Input[list[str]] | None:
    """Zones of a regional cluster's nodes: the configured ones, else one zone of the region.

    GKE counts a pool's min/max per zone, so one zone by default keeps the config's counts the
    node counts (QHub did the same); list several zones to spread nodes for resilience.
    """
    if len(block.availability_zones) == 1:
        return None
    if block.availability_zones:
        return list(block.availability_zones)
    if block.zone:
        return [block.zone]
    zones = gcp.compute.get_zones_output(
        project=block.project, region=block.region, status="UP",
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent),
    )
    return zones.names.apply(lambda names: sorted(names)[:1])


def primary_zone(block: GoogleCloudPlatform, provider: gcp.Provider, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The nodes' first zone, where zonal data disks go: the general pool has nodes there."""
    if block.availability_zones:
        return block.availability_zones[0]
    if block.zone:
        return block.zone
    zones = gcp.compute.get_zones_output(
        project=block.project, region=block.region, status="UP",
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent),
    )
    return zones.names.apply(lambda names: sorted(names)[0])


def gke_versions(block: GoogleCloudPlatform, provider: gcp.Provider, parent: pulumi.Resource) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
    """Control plane and node versions: the configured build, or the newest one of its minor."""
    if _FULL_VERSION.match(block.kubernetes_version):
        return block.kubernetes_version, block.kubernetes_version
    # A new patch shows as a diff in the next preview, so upgrades are reviewed, never silent.
    versions = gcp.container.get_engine_versions_output(
        location=cluster_location(block), project=block.project, version_prefix=f"{block.kubernetes_version}.",
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent),
    )
    return versions.latest_master_version, versions.latest_node_version


def make_cluster(name: str, block: GoogleCloudPlatform, network: Network, master_version: pulumi.Input[str],
                 provider: gcp.Provider, parent: pulumi.Resource, *, production: bool = False) -> gcp.container.Cluster:
    """The GKE cluster; node pools are separate resources (nodepools.py)."""
    return gcp.container.Cluster(
        f"{name}-gke",
        name=name,
        project=block.project,
        location=cluster_location(block),
        node_locations=node_locations(block, provider, parent),
        min_master_version=master_version,
        # Without a channel GKE upgrades only at end of support; the config decides otherwise.
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel="UNSPECIFIED"),
        # GKE insists on a default pool at creation; pools of our own replace it.
        remove_default_node_pool=True,
        initial_node_count=1,
        network=network.network.id,
        subnetwork=network.subnet.id,
        networking_mode="VPC_NATIVE",
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name=PODS_RANGE,
            services_secondary_range_name=SERVICES_RANGE,
        ),
        private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
            enable_private_nodes=True,
            # kubectl and Pulumi reach the public endpoint; nodes have no public IPs.
            enable_private_endpoint=False,
            master_ipv4_cidr_block=block.master_cidr,
        ),
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{block.project}.svc.id.goog",
        ),
        # NetworkPolicies are enforced only with an enforcing plugin. Calico, not Dataplane V2:
        # `datapath_provider` is fixed at creation (a new value replaces the cluster, and with
        # it the hub's database and every disk), while Calico is switched on in place on an
        # existing cluster: first the add-on, then enforcement on the nodes, which GKE applies
        # by re-creating the node pools like an upgrade ("Enabling network policy enforcement"
        # for an existing cluster, GKE docs kubernetes-engine/docs/how-to/network-policy;
        # clusters.setNetworkPolicy and clusters.setAddons in the GKE API). Calico matches an
        # ipBlock by address, nodes' too, so ClusterOutputs.node_cidrs keeps the node subnet.
        addons_config=gcp.container.ClusterAddonsConfigArgs(
            network_policy_config=gcp.container.ClusterAddonsConfigNetworkPolicyConfigArgs(disabled=False),
        ),
        network_policy=gcp.container.ClusterNetworkPolicyArgs(enabled=True, provider="CALICO"),
        # The hub's database and dynamically provisioned disks live in the cluster: on production
        # stacks both Pulumi's protection and GKE's own guard it; `production: false` lifts both.
        deletion_protection=production,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, ignore_changes=["initialNodeCount"], protect=production),
    )
