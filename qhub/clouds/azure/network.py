"""The resource group and virtual network an AKS cluster lives in.

Creates: the stack's resource group; a virtual network with the config's address space and one
subnet for the nodes (its first /20); pods get overlay IPs, so the subnet holds only nodes.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_azure_native as azure

from qhub.config.providers.azure import Azure


def node_subnet(vnet_cidr: str) -> str:
    """The nodes' subnet: the first /20 of the address space, or all of a smaller one."""
    network = ipaddress.ip_network(vnet_cidr)
    if network.prefixlen >= 20:
        return str(network)
    return str(next(network.subnets(new_prefix=20)))


class Network(pulumi.ComponentResource):
    """Resource group, virtual network and node subnet."""

    group: azure.resources.ResourceGroup
    """The stack's resource group."""
    subnet: azure.network.Subnet
    """The nodes' subnet."""

    def __init__(self, name: str, group_name: str, block: Azure, provider: azure.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:azure:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.group = azure.resources.ResourceGroup(
            f"{name}-group",
            resource_group_name=group_name,
            location=block.region,
            opts=child,
        )
        vnet = azure.network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=f"{group_name}-vnet",
            resource_group_name=self.group.name,
            location=block.region,
            address_space=azure.network.AddressSpaceArgs(address_prefixes=[block.vnet_cidr]),
            # The subnet is its own resource; without this, an update of the network drops it.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["subnets"])),
        )
        self.subnet = azure.network.Subnet(
            f"{name}-subnet",
            subnet_name="nodes",
            resource_group_name=self.group.name,
            virtual_network_name=vnet.name,
            address_prefix=node_subnet(block.vnet_cidr),
            opts=child,
        )
        self.register_outputs({"resource_group": self.group.name, "subnet": self.subnet.id})

