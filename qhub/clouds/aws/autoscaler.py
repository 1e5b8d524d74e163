"""cluster-autoscaler: grows node groups when pods are pending and shrinks idle ones.

Creates: an IRSA role bound to `kube-system:cluster-autoscaler` whose inline policy may change only
Auto Scaling groups tagged as this cluster's, and the upstream Helm chart (pinned) running on the
general group with the image that matches the cluster's minor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from qhub.clouds.aws.iam import irsa_trust_policy
from qhub.helm import release
from qhub.versions import CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_IMAGE, CLUSTER_AUTOSCALER_IMAGE_TAGS

# On general, with a request (without one it is the first pod evicted when the node runs short,
# and then nothing scales the groups) and a memory limit well above what it uses at rest.
AUTOSCALER_RESOURCES = {"requests": {"cpu": "50m", "memory": "300Mi"}, "limits": {"memory": "1Gi"}}

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"


def autoscaler_policy(cluster_name: str) -> str:
    """Read anything it must discover; resize and terminate only in this cluster's groups."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ScaleOwnGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                    "autoscaling:UpdateAutoScalingGroup",
                ],
                "Resource": "*",
                # EKS tags every managed group's ASG with k8s.io/cluster-autoscaler/<cluster>=owned.
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
            },
        ],
    })


def autoscaler_values(
    cluster_name: str, region: str, minor: str, role_arn: pulumi.Input[str], general: Mapping[str, str]
) -> dict[str, object]:
    """Helm values: auto-discovery of this cluster's groups, IRSA, placement on general."""
    values: dict[str, object] = {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "nodeSelector": dict(general),
        "resources": AUTOSCALER_RESOURCES,
        "extraArgs": {
            # user and worker groups are often twins; spread scale-ups across zones.
            "balance-similar-node-groups": "true",
            "expander": "least-waste",
            "skip-nodes-with-local-storage": "false",
        },
    }
    tag = CLUSTER_AUTOSCALER_IMAGE_TAGS.get(minor)
    if tag is not None:
        # A minor with no matching autoscaler (old compat configs) keeps the chart's default image.
        values["image"] = {"repository": CLUSTER_AUTOSCALER_IMAGE, "tag": tag}
    return values


class Autoscaler(pulumi.ComponentResource):
    """cluster-autoscaler with its own least-privilege IAM role."""

    role: aws.iam.Role
    """IRSA role of the autoscaler's service account."""
    release: k8s.helm.v3.Release
    """The Helm release."""

    def __init__(
        self, name: str, cluster_name: str, region: str, minor: str,
        oidc_provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str],
        general_selector: Mapping[str, str], after: Sequence[pulumi.Resource],
        provider: aws.Provider, k8s_provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("qhub:aws:Autoscaler", name, None, opts)
        here = pulumi.ResourceOptions(parent=self, provider=provider)
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=irsa_trust_policy(oidc_provider_arn, issuer_url, NAMESPACE, SERVICE_ACCOUNT),
            description=f"cluster-autoscaler of {cluster_name} (IRSA)",
            opts=here,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.role.id, policy=autoscaler_policy(cluster_name), opts=here,
        )
        self.release = release(
            f"{name}-release", CLUSTER_AUTOSCALER_CHART, "cluster-autoscaler", NAMESPACE,
            autoscaler_values(cluster_name, region, minor, self.role.arn, general_selector),
            pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=[policy, *after]),
        )
        self.register_outputs({"role_arn": self.role.arn})
