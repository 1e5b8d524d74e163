"""The whole AWS side of a stack, as one component.

Creates: the AWS provider, then the Network, ControlPlane (EKS), NodeGroups, the Kubernetes
provider from the cluster's kubeconfig, Addons, Autoscaler, SharedStorage (EFS), Disks (conda-store's
EBS volume and its snapshot schedule) and Registry (ECR)
components and, when the QHub file names the GitHub repository, the ImagePushIdentity CI pushes
images with (ci_push.py), all children of a `qhub:aws:Cluster`.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from qhub.clouds.aws.addons import STORAGE_CLASS, Addons
from qhub.clouds.aws.autoscaler import Autoscaler
from qhub.clouds.aws.disks import Disks
from qhub.clouds.aws.ci_push import ImagePushIdentity
from qhub.clouds.aws.ecr import Registry
from qhub.clouds.aws.efs import SharedStorage
from qhub.clouds.aws.eks import ControlPlane
from qhub.clouds.aws.kubeconfig import kubeconfig, make_k8s_provider
from qhub.clouds.aws.network import Network
from qhub.clouds.aws.nodegroups import SPOT_TOLERATION, NodeGroups
from qhub.clouds.aws.provider import account_facts, default_tags, make_provider
from qhub.clouds.common import group_tolerations, protection_notice
from qhub.cluster import ClusterOutputs, NfsEndpoint
from qhub.config.model import Backups, Storage
from qhub.config.providers.aws import AmazonWebServices
from qhub.images import CUSTOM_IMAGES, PushTrust

# The group cluster services (DNS, the CSI controller, the autoscaler) run on.
GENERAL_GROUP = "general"
# The ingress controller's Service gets a Network Load Balancer from EKS's built-in service
# controller (no AWS Load Balancer Controller is installed), placed in the public subnets.
NLB_ANNOTATIONS = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}


class AwsCluster(pulumi.ComponentResource):
    """An EKS cluster with everything the platform layer expects of it."""

    outputs: ClusterOutputs
    """The uniform result the platform layer consumes."""

    def __init__(self, name: str, project: str, stack: str, block: AmazonWebServices, *, production: bool = False,
                 volumes: Storage, backups: Backups,
                 push: PushTrust | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:aws:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider = make_provider(f"{name}-aws", block.region, default_tags(project, stack), self)
        facts = account_facts(provider, self)
        minor = block.kubernetes_minor

        network = Network(f"{name}-network", block, name, provider, child)
        control = ControlPlane(f"{name}-eks", name, block, facts, network.private_subnet_ids, provider, child, production=production)
        nodes = NodeGroups(f"{name}-nodes", control.cluster, block, facts, network.private_subnet_ids, provider, child)
        config = kubeconfig(
            control.cluster.name, control.cluster.endpoint,
            control.cluster.certificate_authority.apply(lambda authority: authority.data or ""),
            block.region,
        )
        k8s_provider = make_k8s_provider(f"{name}-k8s", config, self)
        general = nodes.selectors[GENERAL_GROUP]
        node_groups = list(nodes.groups.values())
        addons = Addons(
            f"{name}-addons", control.cluster, minor, facts, control.oidc_provider.arn, control.issuer_url,
            general, bool(nodes.gpu_groups), node_groups, provider, k8s_provider, child,
        )
        autoscaler = Autoscaler(
            f"{name}-autoscaler", name, block.region, minor, control.oidc_provider.arn, control.issuer_url,
            general, node_groups, provider, k8s_provider, child,
        )
        labels = list(network.zones) or [str(index) for index in range(len(network.private_subnet_ids))]
        storage = SharedStorage(
            f"{name}-efs", network.vpc_id, list(zip(labels, network.private_subnet_ids, strict=True)),
            control.node_security_group_id, provider, child, backups=backups.enabled,
        )
        registry = Registry(f"{name}-ecr", name, provider, child)
        # conda-store's volume in the nodes' first zone (an existing network's: its first subnet's).
        zone: pulumi.Input[str] = network.zones[0] if network.zones else aws.ec2.get_subnet_output(
            id=network.private_subnet_ids[0], opts=pulumi.InvokeOutputOptions(provider=provider, parent=self),
        ).availability_zone
        disks = Disks(f"{name}-disks", name, zone, volumes, backups, facts, provider, child)
        image_push = None
        if push:  # the images workflow's identity, trusted for the deploy branch only
            built = {image: registry.repositories[image] for image in CUSTOM_IMAGES}
            image_push = ImagePushIdentity(f"{name}-image-push", push.subject, block.region, built, provider, child)

        ready: list[pulumi.Resource] = [
            *node_groups, *addons.addons.values(), addons.storage_class, autoscaler.release, *storage.mount_targets,
        ]
        if addons.device_plugin is not None:
            ready.append(addons.device_plugin)
        self.outputs = ClusterOutputs(
            name=control.cluster.name,
            kubeconfig=config,
            k8s_provider=k8s_provider,
            node_selectors=nodes.selectors,
            storage_class=STORAGE_CLASS,
            disks=disks.disks,
            nfs=NfsEndpoint(server=storage.dns_name),
            registry_url=registry.prefix,
            ingress_service_annotations=dict(NLB_ANNOTATIONS),
            # Nodes (and, with the VPC CNI, pods) take their addresses from the VPC.
            node_cidrs=[block.vpc_cidr],
            gpu_node_groups=list(nodes.gpu_groups),
            # GPU groups carry the GPU taint, spot groups QHub's spot taint (nodegroups.py).
            node_tolerations=group_tolerations(block.node_groups, nodes.gpu_groups, [SPOT_TOLERATION]),
            ready=ready,
            exports={"cluster_name": control.cluster.name, "region": block.region, "registry_urls": registry.urls,
                     "protection": protection_notice(production, "EKS cluster"),
                     **({"image_push": image_push.output} if image_push else {})},
        )
        self.register_outputs({"cluster_name": control.cluster.name, "registry_urls": registry.urls})
