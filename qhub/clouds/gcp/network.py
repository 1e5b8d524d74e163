"""The VPC-native network GKE nodes live in, with no public IPs on the nodes.

Creates: a custom-mode VPC network; one regional subnet whose secondary ranges hold pod and
Service IPs; a Cloud Router with Cloud NAT, so private nodes can pull images and reach the internet.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.config.providers.gcp import GoogleCloudPlatform

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


class Network(pulumi.ComponentResource):
    """VPC, subnet and NAT of one GKE cluster."""

    network: gcp.compute.Network
    """The custom-mode VPC network."""
    subnet: gcp.compute.Subnetwork
    """The nodes' subnet, with the `pods` and `services` secondary ranges."""

    def __init__(self, name: str, block: GoogleCloudPlatform, provider: gcp.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.network = gcp.compute.Network(
            f"{name}-vpc",
            name=name,
            # Subnets are declared here, not one per region of the world.
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child,
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            name=f"{name}-nodes",
            network=self.network.id,
            region=block.region,
            ip_cidr_range=block.subnet_cidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=block.pods_cidr),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE, ip_cidr_range=block.services_cidr),
            ],
            # Nodes without public IPs still reach Google APIs (Artifact Registry, logging).
            private_ip_google_access=True,
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=f"{name}-router",
            network=self.network.id,
            region=block.region,
            opts=child,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{name}-nat",
            router=router.name,
            region=block.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        self.register_outputs({"network": self.network.id, "subnet": self.subnet.id})
