"""GcpCluster: the component that assembles a stack's GKE cluster and describes it.

Creates, under one `qhub:gcp:Cluster`: the explicit `gcp.Provider` (project and region of the
config), the Google APIs the stack uses, the network (network.py), the nodes' identity (iam.py),
the cluster (gke.py), a node pool per group (nodepools.py), the data disks of the NFS server and
conda-store with their snapshot schedule (disks.py), the Artifact Registry repository
(registry.py), the ingress load balancer's static IP (ingress_ip.py), the Kubernetes provider
from a kubeconfig using `gke-gcloud-auth-plugin` and, when the QHub file names the GitHub
repository, the ImagePushIdentity CI pushes images with (ci_push.py).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.clouds.common import exec_kubeconfig, group_tolerations, make_k8s_provider, protection_notice
from qhub.clouds.gcp.ci_push import ImagePushIdentity
from qhub.clouds.gcp.disks import Disks
from qhub.clouds.gcp.gke import gke_versions, make_cluster, primary_zone
from qhub.clouds.gcp.iam import NodeIdentity
from qhub.clouds.gcp.ingress_ip import reserve_ingress_address
from qhub.clouds.gcp.network import Network
from qhub.clouds.gcp.nodepools import NODEPOOL_LABEL, SPOT_TOLERATION, make_node_pool
from qhub.clouds.gcp.registry import Registry
from qhub.cluster import ClusterOutputs
from qhub.config.model import Backups, Storage
from qhub.config.providers.gcp import GoogleCloudPlatform
from qhub.images import CUSTOM_IMAGES, PushTrust

# GKE's default CSI class: pd-balanced disks, WaitForFirstConsumer, expandable.
STORAGE_CLASS = "standard-rwo"
# The APIs the resources below call; left enabled on destroy, other workloads may use them.
SERVICES = ("compute.googleapis.com", "container.googleapis.com", "artifactregistry.googleapis.com")


def kubeconfig(cluster: gcp.container.Cluster) -> pulumi.Output[str]:
    """A kubeconfig whose user authenticates through gcloud; secret, as it names the endpoint."""
    ca_data = cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate or "")
    document = pulumi.Output.all(cluster.name, cluster.endpoint, ca_data).apply(
        lambda values: exec_kubeconfig(
            str(values[0]), f"https://{values[1]}", str(values[2]),
            {
                "command": "gke-gcloud-auth-plugin",
                "provideClusterInfo": True,
                "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            },
        )
    )
    return pulumi.Output.secret(document)


class GcpCluster(pulumi.ComponentResource):
    """A GKE cluster with its network, node pools and registry."""

    outputs: ClusterOutputs
    """What the platform layer needs to know about the cluster."""

    def __init__(self, name: str, block: GoogleCloudPlatform, *, production: bool = False,
                 storage: Storage, backups: Backups,
                 push: PushTrust | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:Cluster", name, None, opts)
        provider = gcp.Provider(
            f"{name}-gcp",
            project=block.project,
            region=block.region,
            zone=block.zone,
            default_labels={"qhub-stack": name, "managed-by": "pulumi"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        apis = [
            gcp.projects.Service(
                f"{name}-{service.split('.')[0]}-api",
                project=block.project, service=service, disable_on_destroy=False, opts=child,
            )
            for service in SERVICES
        ]
        after_apis = pulumi.ResourceOptions(depends_on=apis)
        network = Network(f"{name}-network", block, provider, opts=pulumi.ResourceOptions.merge(child, after_apis))
        identity = NodeIdentity(f"{name}-nodes", block.project, provider, opts=child)
        master_version, node_version = gke_versions(block, provider, self)
        cluster = make_cluster(name, block, network, master_version, provider, self, production=production)
        pools = [
            make_node_pool(name, group_name, group, cluster, node_version, identity.account.email, provider, self)
            for group_name, group in block.node_groups.items()
        ]
        disks = Disks(
            f"{name}-disks", name, block.project, block.region, primary_zone(block, provider, self),
            storage, backups, provider, opts=pulumi.ResourceOptions.merge(child, after_apis),
        )
        registry = Registry(
            f"{name}-registry", block.project, block.region, identity.account.member, provider,
            opts=pulumi.ResourceOptions.merge(child, after_apis),
        )
        ingress_address = reserve_ingress_address(name, block.region, pulumi.ResourceOptions.merge(child, after_apis))
        image_push = None
        if push:  # the images workflow's identity, trusted for the deploy branch only
            image_push = ImagePushIdentity(
                f"{name}-image-push", name, push, block.project, block.region, registry.repository, registry.url,
                CUSTOM_IMAGES, provider, opts=child,
            )
        config = kubeconfig(cluster)
        k8s_provider = make_k8s_provider(f"{name}-k8s", config, self)
        gpu_groups = [group_name for group_name, group in block.node_groups.items() if group.is_gpu]
        self.outputs = ClusterOutputs(
            name=cluster.name,
            kubeconfig=config,
            k8s_provider=k8s_provider,
            node_selectors={group_name: {NODEPOOL_LABEL: group_name} for group_name in block.node_groups},
            storage_class=STORAGE_CLASS,
            disks=disks.disks,
            registry_url=registry.url,
            # GKE's external passthrough load balancer needs no annotation.
            ingress_service_annotations={},
            ingress_address=ingress_address,
            # The subnet's primary range is the nodes'; pods use its secondary range.
            node_cidrs=[block.subnet_cidr],
            gpu_node_groups=gpu_groups,
            # GPU pools carry the GPU taint, spot pools GKE's spot taint (nodepools.py).
            node_tolerations=group_tolerations(block.node_groups, gpu_groups, [SPOT_TOLERATION]),
            ready=pools,
            exports={
                "cluster_name": cluster.name,
                "project": block.project,
                "region": block.region,
                "location": cluster.location,
                "kubernetes_version": cluster.master_version,
                "registry_url": registry.url,
                "protection": protection_notice(production, "GKE cluster"),
                **({"image_push": image_push.output} if image_push else {}),
            },
        )
        self.register_outputs({"cluster_name": cluster.name, "endpoint": cluster.endpoint, "registry_url": registry.url})
