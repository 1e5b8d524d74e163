"""The static IP of the ingress controller's load balancer on Azure.

Creates: a Standard, static IPv4 public IP in the stack's resource group, and Network
Contributor on it for the cluster's identity (AKS puts load balancers in its node resource
group, and may only use a public IP elsewhere with that role). The controller's Service names
the IP and its group by annotation (`azure-pip-name`, `azure-load-balancer-resource-group`), so a
re-created Service keeps the address the domain's record points at.

The cloud controller writes the DNS label (`azure-dns-label-name` on the Service) and its own
tags onto the public IP it is given; Pulumi leaves those two properties to it.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.azure.aks import NETWORK_CONTRIBUTOR, role_id
from qhub.cluster import ReservedAddress


def reserve_ingress_address(name: str, group: azure.resources.ResourceGroup, group_name: str, location: str,
                            cluster: azure.containerservice.ManagedCluster, subscription_id: pulumi.Input[str],
                            opts: pulumi.ResourceOptions) -> ReservedAddress:
    """Reserve the public IP in `group` (named `group_name`, which the annotations carry), let the
    cluster use it, and describe how the Service takes it."""
    ip_name = f"{name}-ingress"
    public_ip = azure.network.PublicIPAddress(
        f"{name}-ingress-ip",
        public_ip_address_name=ip_name,
        resource_group_name=group.name,
        location=location,
        sku=azure.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["dnsSettings", "tags"])),
    )
    principal = cluster.identity.apply(lambda identity: identity.principal_id if identity else "")
    access = azure.authorization.RoleAssignment(
        f"{name}-ingress-ip-access",
        principal_id=principal,
        principal_type="ServicePrincipal",
        role_definition_id=role_id(subscription_id, NETWORK_CONTRIBUTOR),
        scope=public_ip.id,
        opts=opts,
    )
    return ReservedAddress(
        ip=public_ip.ip_address.apply(lambda address: address or ""),
        service_annotations={
            "service.beta.kubernetes.io/azure-pip-name": ip_name,
            "service.beta.kubernetes.io/azure-load-balancer-resource-group": group_name,
        },
        # The Service may only take the IP once the cluster may use it.
        ready=(access,),
    )
