"""The identity CI pushes the custom images with: a managed identity only the deploy branch can use.

Creates: a user-assigned managed identity in the stack's resource group, a federated identity
credential trusting GitHub's OIDC tokens of exactly one subject (the repository's deploy
branch), and the AcrPush role for the identity on the stack's registry: it can push there and
has no other role.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.azure.aks import role_id
from qhub.images import GITHUB_OIDC_ISSUER, PushTrust

# Azure's built-in AcrPush role (push and pull on one registry's repositories).
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
# The audience azure/login asks GitHub's token for.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


class ImagePushIdentity(pulumi.ComponentResource):
    """The identity the images workflow logs in as, and what it exports for the workflow."""

    identity: azure.managedidentity.UserAssignedIdentity
    """The identity; `azure/login` takes its client id."""
    output: dict[str, pulumi.Input[object]]
    """The stack output `image_push`: provider, client_id, tenant_id, registry_name, registry and images."""

    def __init__(self, name: str, trust: PushTrust, group_name: pulumi.Input[str], location: str,
                 registry: azure.containerregistry.Registry, subscription_id: pulumi.Input[str], images: tuple[str, ...],
                 provider: azure.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:azure:ImagePushIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=name,
            resource_group_name=group_name,
            location=location,
            opts=child,
        )
        azure.managedidentity.FederatedIdentityCredential(
            f"{name}-github",
            federated_identity_credential_resource_name="github-deploy-branch",
            resource_name_=self.identity.name,
            resource_group_name=group_name,
            issuer=GITHUB_OIDC_ISSUER,
            subject=trust.subject,  # Azure matches it exactly: no wildcard can be written here
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=child,
        )
        azure.authorization.RoleAssignment(
            f"{name}-acr-push",
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_id(subscription_id, ACR_PUSH),
            scope=registry.id,
            opts=child,
        )
        self.output = {
            "provider": "azure",
            "client_id": self.identity.client_id,
            "tenant_id": self.identity.tenant_id,
            "registry_name": registry.name,
            "registry": registry.login_server,
            "images": {image: pulumi.Output.concat(registry.login_server, "/", image) for image in images},
        }
        self.register_outputs({"client_id": self.identity.client_id})
