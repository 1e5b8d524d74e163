"""The container registry for the stack's custom images.

Creates: an Azure Container Registry (protected: it holds the images users' servers run), with
no admin user, and AcrPull on it for the cluster's kubelet identity so nodes pull without secrets.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.azure.aks import role_id

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


def registry_name(name: str, postfix: str | None) -> str:
    """A registry name: 5-50 letters and digits, unique across Azure (hence the postfix)."""
    return (re.sub(r"[^a-z0-9]", "", name) + (postfix or ""))[:50].ljust(5, "0")


class Registry(pulumi.ComponentResource):
    """Azure Container Registry and the kubelet's pull access."""

    login_server: pulumi.Output[str]
    """Push/pull prefix, e.g. labazuredev.azurecr.io."""
    registry: azure.containerregistry.Registry
    """The registry itself (the CI push identity's role is scoped to it)."""

    def __init__(self, name: str, registry: str, group_name: pulumi.Input[str], location: str,
                 kubelet_object_id: pulumi.Input[str], subscription_id: pulumi.Input[str],
                 provider: azure.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:azure:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        acr = azure.containerregistry.Registry(
            f"{name}-acr",
            registry_name=registry,
            resource_group_name=group_name,
            location=location,
            sku=azure.containerregistry.SkuArgs(name="Standard"),
            admin_user_enabled=False,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        azure.authorization.RoleAssignment(
            f"{name}-kubelet-pull",
            principal_id=kubelet_object_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_id(subscription_id, ACR_PULL),
            scope=acr.id,
            opts=child,
        )
        self.registry = acr
        self.login_server = acr.login_server
        self.register_outputs({"login_server": acr.login_server})
