"""IAM roles: service roles with AWS managed policies, and IRSA roles bound to one service account.

Creates (per call): an `aws.iam.Role` and one `aws.iam.RolePolicyAttachment` per managed policy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

# The audience `aws eks` web identity tokens carry for STS.
STS_AUDIENCE = "sts.amazonaws.com"


def service_trust_policy(service: str) -> str:
    """A trust policy letting one AWS service (e.g. `eks.amazonaws.com`) assume the role."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })


def web_identity_trust_policy(oidc_provider_arn: str, issuer_url: str, subject: str) -> str:
    """A trust policy only tokens of this OIDC issuer with exactly this subject (and STS's
    audience) can use: a cluster's service account, or a CI job of one repository and branch."""
    issuer = issuer_url.removeprefix("https://")
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": STS_AUDIENCE}},
        }],
    })


def irsa_trust_document(oidc_provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> str:
    """A trust policy only the named Kubernetes service account of this cluster can use."""
    return web_identity_trust_policy(oidc_provider_arn, issuer_url, f"system:serviceaccount:{namespace}:{service_account}")


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str], namespace: str, service_account: str
) -> pulumi.Output[str]:
    """`irsa_trust_document` over the OIDC provider's Outputs."""
    return pulumi.Output.all(oidc_provider_arn, issuer_url).apply(
        lambda values: irsa_trust_document(str(values[0]), str(values[1]), namespace, service_account)
    )


def role_with_policies(
    name: str,
    trust_policy: pulumi.Input[str],
    policy_arns: Sequence[str],
    *,
    provider: aws.Provider,
    parent: pulumi.Resource,
    description: str,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role named `name` (autonamed at AWS) with the given managed policies attached."""
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    role = aws.iam.Role(name, assume_role_policy=trust_policy, description=description, opts=opts)
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{arn.rsplit('/', 1)[-1]}", role=role.name, policy_arn=arn, opts=opts
        )
        for arn in policy_arns
    ]
    return role, attachments
