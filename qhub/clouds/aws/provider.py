"""The AWS provider every AWS resource of a stack goes through, and the account facts read with it.

Creates: one `pulumi_aws.Provider` pinned to the config's region, with default tags.
Reads: the partition (for ARNs of AWS managed policies) and who is running `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Tag keys on every AWS resource, so costs and ownership can be traced to a stack.
TAG_PROJECT = "qhub.dev/project"
TAG_STACK = "qhub.dev/stack"
TAG_MANAGED_BY = "managed-by"


def default_tags(project: str, stack: str) -> dict[str, str]:
    """The tags the provider puts on every resource it creates."""
    return {TAG_PROJECT: project, TAG_STACK: stack, TAG_MANAGED_BY: "pulumi"}


def make_provider(name: str, region: str, tags: dict[str, str], parent: pulumi.Resource) -> aws.Provider:
    """An explicit provider, so nothing depends on the ambient `aws:region` or profile defaults."""
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class AccountFacts:
    """What the program needs to know about the account it deploys into."""

    partition: str
    """ARN partition: aws, aws-cn or aws-us-gov."""
    admin_arn: pulumi.Output[str]
    """IAM principal running the deployment (the role behind an assumed-role session)."""

    def managed_policy(self, path: str) -> str:
        """ARN of an AWS managed IAM policy, e.g. `AmazonEKSClusterPolicy`."""
        return f"arn:{self.partition}:iam::aws:policy/{path}"


def account_facts(provider: aws.Provider, parent: pulumi.Resource) -> AccountFacts:
    """Read the partition and the deploying principal through the stack's provider."""
    invoke = pulumi.InvokeOptions(provider=provider, parent=parent)
    partition = aws.get_partition(opts=invoke).partition
    caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent))
    # An access entry needs the IAM role, not the STS session ARN that get_caller_identity gives.
    session = aws.iam.get_session_context_output(
        arn=caller.arn, opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent)
    )
    return AccountFacts(partition=partition, admin_arn=session.issuer_arn)
