"""EKS managed node groups, one per config group, and the tags that let them scale from zero.

Creates: the node IAM role (worker node, CNI and ECR read-only policies, nothing more); per group
an `aws.eks.NodeGroup` in the private subnets, and one `aws.autoscaling.Tag` per
cluster-autoscaler node-template tag on the group's Auto Scaling group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from qhub.cluster import GPU_TAINT_KEY, GPU_TAINT_VALUE, toleration
from qhub.clouds.aws.iam import role_with_policies, service_trust_policy
from qhub.clouds.aws.provider import AccountFacts
from qhub.config.providers.aws import AmazonWebServices, AwsNodeGroup

# The label the platform layer selects each group by (exported in ClusterOutputs.node_selectors).
NODE_GROUP_LABEL = "qhub.dev/node-group"
# The NVIDIA device plugin's default node affinity requires this label (versions.md §1 note 5).
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
# Managed policies a node needs: join the cluster, run the VPC CNI, pull images from ECR.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
# Prefix of the Auto Scaling group tags cluster-autoscaler reads to model a node of an empty group.
NODE_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"


@dataclass(frozen=True)
class MachineFacts:
    """What EC2 says about an instance type."""

    arm64: bool
    """The type runs arm64 (Graviton) only."""
    gpus: int
    """NVIDIA GPUs per instance."""


def machine_facts(instance: str, provider: aws.Provider, parent: pulumi.Resource) -> MachineFacts:
    """Architecture and GPU count of an instance type, from EC2 rather than a hand-kept table."""
    described = aws.ec2.get_instance_type(instance_type=instance, opts=pulumi.InvokeOptions(provider=provider, parent=parent))
    architectures = list(described.supported_architectures or [])
    gpus = sum(gpu.count for gpu in described.gpuses or [] if gpu.manufacturer.upper() == "NVIDIA")
    return MachineFacts(arm64="x86_64" not in architectures and "arm64" in architectures, gpus=gpus)


def ami_type(group: AwsNodeGroup, facts: MachineFacts) -> str:
    """The Amazon Linux 2023 AMI type: NVIDIA-accelerated for GPU groups, arm64 for Graviton."""
    arch = "ARM_64" if facts.arm64 else "x86_64"
    return f"AL2023_{arch}_NVIDIA" if group.is_gpu else f"AL2023_{arch}_STANDARD"


# EKS labels a Spot managed node group's nodes eks.amazonaws.com/capacityType=SPOT and taints
# them only with the group's own `taints`
# (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html#managed-node-group-capacity-types).
# QHub's spot groups carry this taint, so that only pods which tolerate losing their node land
# there: cluster add-ons and system pods without a node selector stay on on-demand nodes.
SPOT_TAINT_KEY = "qhub.dev/spot"
SPOT_TAINT_VALUE = "true"
SPOT_TOLERATION = toleration(SPOT_TAINT_KEY, SPOT_TAINT_VALUE, "NoSchedule")


def node_taints(group: AwsNodeGroup) -> list[tuple[str, str]]:
    """(key, value) of each NoSchedule taint the group's nodes carry."""
    return [*([(GPU_TAINT_KEY, GPU_TAINT_VALUE)] if group.is_gpu else []),
            *([(SPOT_TAINT_KEY, SPOT_TAINT_VALUE)] if group.spot else [])]


def node_labels(group_name: str, group: AwsNodeGroup) -> dict[str, str]:
    """Kubernetes labels every node of the group carries."""
    labels = {NODE_GROUP_LABEL: group_name}
    if group.is_gpu:
        labels[GPU_PRESENT_LABEL] = "true"
    return labels


def node_template_tags(group_name: str, group: AwsNodeGroup, facts: MachineFacts) -> dict[str, str]:
    """Tags describing an empty group's nodes to cluster-autoscaler, so pods can scale it up from zero."""
    tags = {f"{NODE_TEMPLATE}/label/{key}": value for key, value in node_labels(group_name, group).items()}
    for key, value in node_taints(group):
        tags[f"{NODE_TEMPLATE}/taint/{key}"] = f"{value}:NoSchedule"
    if group.is_gpu:
        # A GPU group flagged by config but unknown to EC2's answer still offers one GPU.
        tags[f"{NODE_TEMPLATE}/resources/{GPU_TAINT_KEY}"] = str(max(facts.gpus, 1))
    return tags


def _slug(text: str) -> str:
    """A logical-name-safe form of a tag key."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _asg_name(resources: Sequence[aws.eks.outputs.NodeGroupResource]) -> str:
    """The Auto Scaling group EKS made for a managed node group."""
    for resource in resources:
        for group in resource.autoscaling_groups or []:
            if group.name:
                return group.name
    raise ValueError("the node group reported no Auto Scaling group")


class NodeGroups(pulumi.ComponentResource):
    """All managed node groups of the cluster."""

    groups: dict[str, aws.eks.NodeGroup]
    """Node group resources by config group name."""
    selectors: dict[str, dict[str, str]]
    """Node selector per group."""
    gpu_groups: list[str]
    """Names of the groups with NVIDIA GPUs."""

    def __init__(
        self, name: str, cluster: aws.eks.Cluster, block: AmazonWebServices, facts: AccountFacts,
        subnet_ids: Sequence[pulumi.Input[str]], provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("qhub:aws:NodeGroups", name, None, opts)
        role, attachments = role_with_policies(
            f"{name}-role",
            service_trust_policy("ec2.amazonaws.com"),
            [facts.managed_policy(policy) for policy in NODE_POLICIES],
            provider=provider, parent=self, description="EKS managed nodes",
        )
        self.groups = {}
        self.selectors = {}
        self.gpu_groups = []
        for group_name, group in block.node_groups.items():
            machine = machine_facts(group.instance, provider, self)
            self.groups[group_name] = self._group(
                f"{name}-{group_name}", group_name, group, machine, cluster, block, role, attachments,
                subnet_ids, provider,
            )
            self.selectors[group_name] = {NODE_GROUP_LABEL: group_name}
            if group.is_gpu:
                self.gpu_groups.append(group_name)
        self.register_outputs({"node_groups": {key: value.arn for key, value in self.groups.items()}})

    def _group(
        self, name: str, group_name: str, group: AwsNodeGroup, machine: MachineFacts,
        cluster: aws.eks.Cluster, block: AmazonWebServices, role: aws.iam.Role,
        attachments: Sequence[pulumi.Resource], subnet_ids: Sequence[pulumi.Input[str]], provider: aws.Provider,
    ) -> aws.eks.NodeGroup:
        template = node_template_tags(group_name, group, machine)
        taints = [aws.eks.NodeGroupTaintArgs(key=key, value=value, effect="NO_SCHEDULE") for key, value in node_taints(group)] or None
        node_group = aws.eks.NodeGroup(
            name,
            cluster_name=cluster.name,
            node_role_arn=role.arn,
            subnet_ids=list(subnet_ids),
            instance_types=[group.instance],
            ami_type=ami_type(group, machine),
            capacity_type="SPOT" if group.spot else "ON_DEMAND",
            disk_size=group.disk_size_gb,
            # Nodes follow the control plane's minor on upgrade.
            version=block.kubernetes_minor,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=group.min_nodes, max_size=group.max_nodes, desired_size=group.min_nodes,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            labels=node_labels(group_name, group),
            taints=taints,
            tags={NODE_GROUP_LABEL: group_name, **template},
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[cluster, *attachments],
                # cluster-autoscaler owns the desired size after creation; `pulumi up` must not reset it.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        # EKS does not copy node group tags to the Auto Scaling group, where the autoscaler reads them.
        asg_name = node_group.resources.apply(_asg_name)
        for key, value in template.items():
            aws.autoscaling.Tag(
                f"{name}-{_slug(key.removeprefix(NODE_TEMPLATE))}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
        return node_group

