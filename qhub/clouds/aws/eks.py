"""The EKS control plane and who may reach it.

Creates: the cluster IAM role (AmazonEKSClusterPolicy), the EKS cluster at the config's
Kubernetes version with public (allow-listed) and private endpoint access (protected on
production stacks: the hub's database and dynamically provisioned disks live in it), an access entry with
the cluster-admin access policy for the principal running `pulumi up`, and the IAM OIDC provider
that IRSA roles trust.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from qhub.clouds.aws.iam import STS_AUDIENCE, role_with_policies, service_trust_policy
from qhub.clouds.aws.provider import AccountFacts
from qhub.config.providers.aws import AmazonWebServices


class ControlPlane(pulumi.ComponentResource):
    """An EKS cluster with API-mode access entries and an OIDC provider for IRSA."""

    cluster: aws.eks.Cluster
    """The EKS cluster."""
    oidc_provider: aws.iam.OpenIdConnectProvider
    """IAM identity provider for the cluster's service account tokens."""
    issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer (https://oidc.eks.<region>.amazonaws.com/id/<ID>)."""
    node_security_group_id: pulumi.Output[str]
    """The cluster security group EKS attaches to managed nodes."""

    def __init__(
        self, name: str, cluster_name: str, block: AmazonWebServices, facts: AccountFacts,
        subnet_ids: Sequence[pulumi.Input[str]], provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None, *, production: bool = False,
    ) -> None:
        super().__init__("qhub:aws:ControlPlane", name, None, opts)
        role, attachments = role_with_policies(
            f"{name}-role",
            service_trust_policy("eks.amazonaws.com"),
            [facts.managed_policy("AmazonEKSClusterPolicy")],
            provider=provider, parent=self, description=f"EKS control plane of {cluster_name}",
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            # EKS takes a minor only; QHub never passed the version, so clusters drifted (anchors §1a).
            version=block.kubernetes_minor,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(subnet_ids),
                endpoint_public_access=True,
                public_access_cidrs=list(block.endpoint_public_access_cidrs),
                # Nodes reach the API inside the VPC instead of hairpinning through the internet.
                endpoint_private_access=True,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # The admin gets an explicit access entry below, visible and revocable in the stack.
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(attachments), protect=production),
        )
        opts_here = pulumi.ResourceOptions(parent=self, provider=provider)
        admin = aws.eks.AccessEntry(
            f"{name}-admin",
            cluster_name=self.cluster.name, principal_arn=facts.admin_arn, type="STANDARD",
            opts=opts_here,
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-admin-policy",
            cluster_name=self.cluster.name,
            principal_arn=admin.principal_arn,
            policy_arn=f"arn:{facts.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=opts_here,
        )
        self.issuer_url = self.cluster.identities.apply(_issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.issuer_url,
            client_id_lists=[STS_AUDIENCE],
            opts=opts_here,
        )
        self.node_security_group_id = self.cluster.vpc_config.apply(_cluster_security_group)
        self.register_outputs({
            "cluster_name": self.cluster.name, "endpoint": self.cluster.endpoint,
            "issuer_url": self.issuer_url, "oidc_provider_arn": self.oidc_provider.arn,
        })


def _issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    """The OIDC issuer URL from the cluster's identity block."""
    for identity in identities:
        for oidc in identity.oidcs or []:
            if oidc.issuer:
                return oidc.issuer
    raise ValueError("the EKS cluster reported no OIDC issuer")


def _cluster_security_group(vpc_config: aws.eks.outputs.ClusterVpcConfig) -> str:
    """The security group EKS creates for the cluster and puts on managed nodes."""
    if not vpc_config.cluster_security_group_id:
        raise ValueError("the EKS cluster reported no cluster security group")
    return vpc_config.cluster_security_group_id
