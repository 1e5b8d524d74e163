"""The identity CI pushes the custom images with: a service account only the deploy branch can use.

Creates: the APIs a GitHub token exchange needs (IAM, IAM credentials, STS), a workload identity
pool with a GitHub OIDC provider admitting only the stack's repository, a CI service account,
`roles/iam.workloadIdentityUser` on that account for exactly one subject (the repository's
deploy branch), and `roles/artifactregistry.writer` on the stack's repository for the account:
it can push there and nowhere else.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.clouds.gcp.iam import account_id
from qhub.images import GITHUB_OIDC_ISSUER, PushTrust

APIS = ("iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com")
WRITER_ROLE = "roles/artifactregistry.writer"
TOKEN_USER_ROLE = "roles/iam.workloadIdentityUser"
PROVIDER_ID = "github"


def pool_id(name: str) -> str:
    """A workload identity pool id: 4-32 lowercase letters, digits and hyphens."""
    return f"{name[:25].rstrip('-')}-github"


def principal(pool_name: str, subject: str) -> str:
    """The IAM member for tokens of one subject exchanged through the pool."""
    return f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"


class ImagePushIdentity(pulumi.ComponentResource):
    """The pool, provider and service account the images workflow logs in through."""

    account: gcp.serviceaccount.Account
    """The CI service account; writer on the stack's repository only."""
    output: dict[str, pulumi.Input[object]]
    """The stack output `image_push`: provider, workload_identity_provider, service_account,
    registry and images."""

    def __init__(self, name: str, stack_name: str, trust: PushTrust, project: str, region: str,
                 registry: gcp.artifactregistry.Repository, registry_url: pulumi.Input[str], images: tuple[str, ...],
                 provider: gcp.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:ImagePushIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        apis = [
            gcp.projects.Service(f"{name}-{api.split('.')[0]}-api", project=project, service=api,
                                 disable_on_destroy=False, opts=child)
            for api in APIS
        ]
        after_apis = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=apis))
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            workload_identity_pool_id=pool_id(stack_name),
            project=project,
            display_name="GitHub Actions",
            description=f"GitHub Actions of {trust.repository}, pushing the images of {stack_name}",
            opts=after_apis,
        )
        github = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-github",
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=PROVIDER_ID,
            project=project,
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_OIDC_ISSUER),
            attribute_mapping={"google.subject": "assertion.sub", "attribute.repository": "assertion.repository"},
            # Tokens of other repositories are refused at the exchange; the binding below
            # narrows what remains to the deploy branch.
            attribute_condition=f"assertion.repository == '{trust.repository}'",
            opts=after_apis,
        )
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=account_id(stack_name, "ci"),
            display_name=f"CI image pushes of {stack_name}",
            project=project,
            opts=child,
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-token-user",
            service_account_id=self.account.name,
            role=TOKEN_USER_ROLE,
            member=pool.name.apply(lambda pool_name: principal(pool_name, trust.subject)),
            opts=child,
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-writer",
            project=project,
            location=region,
            repository=registry.repository_id,
            role=WRITER_ROLE,
            member=self.account.member,
            opts=child,
        )
        self.output = {
            "provider": "gcp",
            "workload_identity_provider": github.name,
            "service_account": self.account.email,
            "registry": f"{region}-docker.pkg.dev",
            "images": {image: pulumi.Output.concat(registry_url, "/", image) for image in images},
        }
        self.register_outputs({"service_account": self.account.email})
