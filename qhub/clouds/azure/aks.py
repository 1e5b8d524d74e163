"""The AKS cluster and its agent pools, at the config's Kubernetes version.

Creates: the managed cluster (protected on production stacks, with its System pool inline: the
hub's database and dynamically provisioned disks live in it) with a system-assigned identity, Azure CNI overlay on the stack's
subnet with Calico enforcing NetworkPolicies, Workload Identity and the OIDC issuer, and `general` as its one System pool; a User
agent pool per other group (these may scale to zero); the cluster identity's Network
Contributor role on the node subnet (to place load balancers there). Every pool autoscales
between the group's min and max and labels its nodes `qhub.dev/node-group=<group>`; GPU pools
carry the nvidia.com/gpu taint, AKS installs their driver.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.common import GPU_PRESENT_LABEL
from qhub.cluster import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE, toleration
from qhub.config.providers.azure import Azure, AzureNodeGroup

GROUP_LABEL = "qhub.dev/node-group"
SYSTEM_POOL = "general"
# Overlay pod and Service ranges; the config rejects address spaces that overlap them.
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.0.0.0/16"
DNS_SERVICE_IP = "10.0.0.10"
# AKS taints (and labels) every node of a Spot pool with this, and the taint cannot be removed:
# only pods tolerating it run there. https://learn.microsoft.com/azure/aks/spot-node-pool
SPOT_TOLERATION = toleration("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
# Built-in role ids, the same in every tenant.
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def pool_names(groups: list[str]) -> dict[str, str]:
    """AKS pool name per group: lowercase letters and digits, at most 12, unique."""
    names: dict[str, str] = {}
    for index, group in enumerate(groups):
        candidate = re.sub(r"[^a-z0-9]", "", group)[:12]
        if candidate in names.values():
            suffix = str(index)
            candidate = candidate[: 12 - len(suffix)] + suffix
        names[group] = candidate
    return names


def role_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """Full id of a built-in role definition in the subscription."""
    return pulumi.Output.concat("/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role)


def node_labels(group_name: str, group: AzureNodeGroup) -> dict[str, str]:
    """Labels the platform selects on; GPU nodes also carry the one the device plugin selects on."""
    labels = {GROUP_LABEL: group_name}
    if group.is_gpu:
        labels[GPU_PRESENT_LABEL] = "true"
    return labels


def node_taints(group: AzureNodeGroup) -> list[str]:
    """Taints in AKS's key=value:Effect form."""
    return [f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}"] if group.is_gpu else []


def upgrade_channel(version: str) -> str:
    """A minor ("1.35") gets its patches automatically; a full version stays exactly as given."""
    return "patch" if re.fullmatch(r"\d+\.\d+", version) else "none"


def system_pool(group: AzureNodeGroup, block: Azure, subnet_id: pulumi.Input[str]) -> azure.containerservice.ManagedClusterAgentPoolProfileArgs:
    """The cluster's one System pool: the general group, which hosts the platform's services too."""
    # AKS keeps at least one node in a System pool.
    minimum = max(group.min_nodes, 1)
    return azure.containerservice.ManagedClusterAgentPoolProfileArgs(
        name=SYSTEM_POOL,
        mode=azure.containerservice.AgentPoolMode.SYSTEM,
        vm_size=group.instance,
        os_type="Linux",
        type="VirtualMachineScaleSets",
        enable_auto_scaling=True,
        count=minimum,
        min_count=minimum,
        max_count=max(group.max_nodes, minimum),
        orchestrator_version=block.kubernetes_version,
        os_disk_size_gb=group.disk_size_gb,
        vnet_subnet_id=subnet_id,
        node_labels=node_labels(SYSTEM_POOL, group),
        node_taints=node_taints(group) or None,
    )


def make_cluster(name: str, block: Azure, group_name: pulumi.Input[str], subnet_id: pulumi.Input[str],
                 provider: azure.Provider, parent: pulumi.Resource, *, production: bool = False) -> azure.containerservice.ManagedCluster:
    """The managed cluster with the general group inline as its System pool."""
    return azure.containerservice.ManagedCluster(
        f"{name}-aks",
        resource_name_=name,
        resource_group_name=group_name,
        location=block.region,
        dns_prefix=name,
        kubernetes_version=block.kubernetes_version,
        node_resource_group=f"{name}-nodes",
        identity=azure.containerservice.ManagedClusterIdentityArgs(type=azure.containerservice.ResourceIdentityType.SYSTEM_ASSIGNED),
        sku=azure.containerservice.ManagedClusterSKUArgs(name="Base", tier="Free"),
        enable_rbac=True,
        agent_pool_profiles=[system_pool(block.node_groups[SYSTEM_POOL], block, subnet_id)],
        network_profile=azure.containerservice.ContainerServiceNetworkProfileArgs(
            network_plugin="azure",
            network_plugin_mode="overlay",
            # NetworkPolicies are enforced only with a policy engine. Calico, because AKS
            # installs it on an existing cluster in place (`az aks update --network-policy
            # calico` re-images the node pools like an upgrade: "Install Azure Network Policy
            # Manager or Calico in an existing cluster", AKS docs use-network-policies), so
            # stacks made before get it without a new cluster; Cilium would need the Cilium
            # dataplane (networkDataplane) as well, and Azure NPM for Linux is being retired.
            # Calico matches an ipBlock by address, nodes' too, so ClusterOutputs.node_cidrs
            # keeps the node subnet.
            network_policy=azure.containerservice.NetworkPolicy.CALICO,
            pod_cidr=POD_CIDR,
            service_cidr=SERVICE_CIDR,
            dns_service_ip=DNS_SERVICE_IP,
            load_balancer_sku="standard",
        ),
        auto_upgrade_profile=azure.containerservice.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel=upgrade_channel(block.kubernetes_version),
            node_os_upgrade_channel="NodeImage",
        ),
        oidc_issuer_profile=azure.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=azure.containerservice.ManagedClusterSecurityProfileArgs(
            workload_identity=azure.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
        ),
        # The autoscaler owns the System pool's node count.
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, ignore_changes=["agentPoolProfiles[0].count"], protect=production),
    )


def make_agent_pool(name: str, pool_name: str, group_name: str, group: AzureNodeGroup, block: Azure,
                    cluster: azure.containerservice.ManagedCluster, resource_group: pulumi.Input[str],
                    subnet_id: pulumi.Input[str], provider: azure.Provider, parent: pulumi.Resource) -> azure.containerservice.AgentPool:
    """A User pool of one node group other than general; only User pools can scale to zero."""
    return azure.containerservice.AgentPool(
        f"{name}-{group_name}",
        agent_pool_name=pool_name,
        resource_name_=cluster.name,
        resource_group_name=resource_group,
        mode=azure.containerservice.AgentPoolMode.USER,
        vm_size=group.instance,
        os_type="Linux",
        type="VirtualMachineScaleSets",
        enable_auto_scaling=True,
        count=group.min_nodes,
        min_count=group.min_nodes,
        max_count=group.max_nodes,
        orchestrator_version=block.kubernetes_version,
        os_disk_size_gb=group.disk_size_gb,
        vnet_subnet_id=subnet_id,
        node_labels=node_labels(group_name, group),
        node_taints=node_taints(group) or None,
        gpu_profile=azure.containerservice.GPUProfileArgs(driver="Install") if group.is_gpu else None,
        # Spot pools: evicted VMs are deleted, and any price up to on-demand is paid. AKS taints
        # their nodes kubernetes.azure.com/scalesetpriority=spot:NoSchedule.
        scale_set_priority="Spot" if group.spot else None,
        scale_set_eviction_policy="Delete" if group.spot else None,
        spot_max_price=-1 if group.spot else None,
        # The autoscaler owns the node count.
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, ignore_changes=["count"]),
    )


def subnet_access(name: str, cluster: azure.containerservice.ManagedCluster, subnet_id: pulumi.Input[str],
                  subscription_id: pulumi.Input[str], provider: azure.Provider, parent: pulumi.Resource) -> azure.authorization.RoleAssignment:
    """Network Contributor on the node subnet for the cluster identity (load balancer IPs there)."""
    principal = cluster.identity.apply(lambda identity: identity.principal_id if identity else "")
    return azure.authorization.RoleAssignment(
        f"{name}-subnet-access",
        principal_id=principal,
        principal_type="ServicePrincipal",
        role_definition_id=role_id(subscription_id, NETWORK_CONTRIBUTOR),
        scope=subnet_id,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )
