"""AzureCluster: the component that assembles a stack's AKS cluster and describes it.

Creates, under one `qhub:azure:Cluster`: the explicit `azure_native.Provider` (the config's
location, and subscription when given), the network (network.py), the cluster and its pools
(aks.py), the data disks of the NFS server and conda-store with their backup
(disks.py), the registry (registry.py), the ingress load balancer's static public IP
(ingress_ip.py), the Kubernetes provider from the cluster's user credentials, when a group
has GPUs the NVIDIA device plugin and, when the QHub file names the GitHub repository, the
ImagePushIdentity CI pushes images with (ci_push.py).
"""

from __future__ import annotations

import base64

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.azure.aks import (
    GROUP_LABEL, SPOT_TOLERATION, SYSTEM_POOL, make_agent_pool, make_cluster, pool_names, subnet_access,
)
from qhub.clouds.azure.ci_push import ImagePushIdentity
from qhub.clouds.azure.disks import Disks
from qhub.clouds.azure.ingress_ip import reserve_ingress_address
from qhub.clouds.azure.network import Network, node_subnet
from qhub.clouds.azure.registry import Registry, registry_name
from qhub.clouds.common import group_tolerations, make_k8s_provider, nvidia_device_plugin, protection_notice
from qhub.cluster import ClusterOutputs
from qhub.config.model import Backups, Storage
from qhub.config.providers.azure import Azure
from qhub.images import CUSTOM_IMAGES, PushTrust

# AKS's default CSI class: Standard SSD managed disks, expandable.
STORAGE_CLASS = "managed-csi"


def kubeconfig(cluster: azure.containerservice.ManagedCluster, group_name: pulumi.Input[str],
               provider: azure.Provider, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The cluster's user kubeconfig (AKS returns it base64-encoded), as a secret."""
    credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=group_name, resource_name=cluster.name,
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent),
    )
    document = credentials.kubeconfigs.apply(lambda configs: base64.b64decode(configs[0].value).decode())
    return pulumi.Output.secret(document)


class AzureCluster(pulumi.ComponentResource):
    """An AKS cluster with its network, agent pools and registry."""

    outputs: ClusterOutputs
    """What the platform layer needs to know about the cluster."""

    def __init__(self, name: str, block: Azure, *, production: bool = False,
                 storage: Storage, backups: Backups,
                 push: PushTrust | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:azure:Cluster", name, None, opts)
        provider = azure.Provider(
            f"{name}-azure",
            location=block.region,
            subscription_id=block.subscription_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        subscription_id: pulumi.Input[str] = block.subscription_id or azure.authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        ).subscription_id
        network = Network(f"{name}-network", name, block, provider, opts=child)
        cluster = make_cluster(name, block, network.group.name, network.subnet.id, provider, self, production=production)
        subnet_access(name, cluster, network.subnet.id, subscription_id, provider, self)
        names = pool_names(list(block.node_groups))
        pools: list[pulumi.Resource] = [cluster]
        pools += [
            make_agent_pool(name, names[group_name], group_name, group, block, cluster, network.group.name,
                            network.subnet.id, provider, self)
            for group_name, group in block.node_groups.items() if group_name != SYSTEM_POOL
        ]
        kubelet = cluster.identity_profile.apply(
            lambda profile: (profile or {})["kubeletidentity"].object_id or ""
        )
        cluster_principal = cluster.identity.apply(lambda identity: identity.principal_id if identity and identity.principal_id else "")
        disks = Disks(f"{name}-disks", name, network.group, block.region, cluster_principal, subscription_id,
                      storage, backups, provider, opts=child)
        registry = Registry(
            f"{name}-registry", registry_name(name, block.storage_account_postfix), network.group.name,
            block.region, kubelet, subscription_id, provider, opts=child,
        )
        image_push = None
        if push:  # the images workflow's identity, trusted for the deploy branch only
            image_push = ImagePushIdentity(f"{name}-image-push", push, network.group.name, block.region, registry.registry,
                                           subscription_id, CUSTOM_IMAGES, provider, opts=child)
        # The resource group is named after the stack (Network above); the annotations need the name itself.
        ingress_address = reserve_ingress_address(name, network.group, name, block.region, cluster, subscription_id, child)
        config = kubeconfig(cluster, network.group.name, provider, self)
        k8s_provider = make_k8s_provider(f"{name}-k8s", config, self)
        gpu_groups = [group_name for group_name, group in block.node_groups.items() if group.is_gpu]
        ready = list(pools)
        if gpu_groups:
            # A spot GPU pool's nodes carry AKS's spot taint as well.
            ready.append(nvidia_device_plugin(f"{name}-nvidia-device-plugin", k8s_provider, self, pools,
                                              also_tolerate=[SPOT_TOLERATION]))
        self.outputs = ClusterOutputs(
            name=cluster.name,
            kubeconfig=config,
            k8s_provider=k8s_provider,
            node_selectors={group_name: {GROUP_LABEL: group_name} for group_name in block.node_groups},
            storage_class=STORAGE_CLASS,
            disks=disks.disks,
            registry_url=registry.login_server,
            # A stable <label>.<region>.cloudapp.azure.com name to point the domain's CNAME at.
            ingress_service_annotations={"service.beta.kubernetes.io/azure-dns-label-name": name},
            ingress_address=ingress_address,
            # Nodes sit in the node subnet; pods in the overlay's own range.
            node_cidrs=[node_subnet(block.vnet_cidr)],
            gpu_node_groups=gpu_groups,
            node_tolerations=group_tolerations(block.node_groups, gpu_groups, spot_tolerations=[SPOT_TOLERATION]),
            ready=ready,
            exports={
                "cluster_name": cluster.name,
                "resource_group": network.group.name,
                "region": block.region,
                "kubernetes_version": cluster.kubernetes_version,
                "registry_url": registry.login_server,
                "protection": protection_notice(production, "AKS cluster"),
                **({"image_push": image_push.output} if image_push else {}),
            },
        )
        self.register_outputs({"cluster_name": cluster.name, "fqdn": cluster.fqdn, "registry_url": registry.login_server})
