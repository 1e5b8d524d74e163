"""The identity CI pushes the custom images with: a role only the deploy branch's jobs can assume.

Creates: an `aws.iam.Role` trusting GitHub's OIDC provider for one token subject (the
repository's deploy branch, never a wildcard), and its inline `aws.iam.RolePolicy`: ECR push
and pull on this stack's custom-image repositories and nothing else.
Reads: the account's IAM OIDC provider for token.actions.githubusercontent.com, created once
per account (docs/ci-cd.md), as the deploy roles use it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from qhub.clouds.aws.iam import web_identity_trust_policy
from qhub.images import GITHUB_OIDC_ISSUER

# What `docker push` (and BuildKit checking what a registry already has) calls on a repository.
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# The registry login token is account-wide by AWS's design: ECR has no resource for it, so it
# needs Resource "*"; it grants nothing on a repository by itself.
LOGIN_ACTION = "ecr:GetAuthorizationToken"


def trust_policy(oidc_provider_arn: str, subject: str) -> str:
    """Only GitHub tokens with exactly this subject (and STS's audience) may assume the role."""
    return web_identity_trust_policy(oidc_provider_arn, GITHUB_OIDC_ISSUER, subject)


def push_policy(repository_arns: Sequence[str]) -> str:
    """ECR push on the given repositories, plus the account-wide login token."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RegistryLogin", "Effect": "Allow", "Action": LOGIN_ACTION, "Resource": "*"},
            {"Sid": "PushStackImages", "Effect": "Allow", "Action": list(PUSH_ACTIONS), "Resource": sorted(repository_arns)},
        ],
    })


class ImagePushIdentity(pulumi.ComponentResource):
    """The role the images workflow assumes, and what it exports for the workflow."""

    role: aws.iam.Role
    """The role; its ARN is `output["role_arn"]`."""
    output: dict[str, pulumi.Input[object]]
    """The stack output `image_push`: provider, role_arn, region, registry and images."""

    def __init__(self, name: str, subject: str, region: str, repositories: Mapping[str, aws.ecr.Repository],
                 provider: aws.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:aws:ImagePushIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        github = aws.iam.get_open_id_connect_provider_output(
            url=GITHUB_OIDC_ISSUER, opts=pulumi.InvokeOutputOptions(parent=self, provider=provider),
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=github.arn.apply(lambda arn: trust_policy(arn, subject)),
            description=f"Pushes the custom images from GitHub ({subject})",
            opts=child,
        )
        arns = [repository.arn for repository in repositories.values()]
        aws.iam.RolePolicy(
            f"{name}-ecr",
            role=self.role.id,
            policy=pulumi.Output.all(*arns).apply(lambda values: push_policy([str(v) for v in values])),
            opts=child,
        )
        urls = {image: repository.repository_url for image, repository in repositories.items()}
        first = next(iter(urls.values()))
        self.output = {
            "provider": "aws",
            "role_arn": self.role.arn,
            "region": region,
            "registry": first.apply(lambda url: url.split("/", 1)[0]),
            "images": urls,
        }
        self.register_outputs({"role_arn": self.role.arn})
