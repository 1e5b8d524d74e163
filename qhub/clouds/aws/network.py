"""The VPC the cluster lives in, or the existing subnets the config names.

Creates (new network): a VPC; per availability zone a public and a private subnet; an internet
gateway; one NAT gateway with its Elastic IP (or one per zone when `nat_gateway_per_zone`); a
public route table and a private route table per zone, with their associations. Subnets carry the
tags the AWS load balancer integration uses to place internet-facing and internal load balancers.
With `existing_network` it creates nothing and passes the given ids through.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from qhub.config.providers.aws import AmazonWebServices

# Zones the network spans when the config names none: enough for EKS (two) and for resilience.
MAX_DEFAULT_ZONES = 3


def subnet_cidrs(vpc_cidr: str, zone_count: int) -> list[tuple[str, str]]:
    """(private, public) CIDR per zone: large private blocks for pods, small public ones for NAT/LBs.

    The VPC is cut into 2^k equal blocks (enough for one per zone plus one spare); zone i gets
    block i as its private subnet, and the spare last block is cut the same way again into the
    public subnets. The VPC CNI gives every pod a VPC address, so the private side gets the room.
    """
    network = ipaddress.ip_network(vpc_cidr)
    bits = max(1, math.ceil(math.log2(zone_count + 1)))
    blocks = list(network.subnets(prefixlen_diff=bits))
    public_blocks = list(blocks[-1].subnets(prefixlen_diff=bits))
    return [(str(blocks[i]), str(public_blocks[i])) for i in range(zone_count)]


def pick_zones(block: AmazonWebServices, provider: aws.Provider, parent: pulumi.Resource) -> list[str]:
    """The config's zones, or the region's first standard (not opt-in, not local) zones."""
    if block.availability_zones:
        return list(block.availability_zones)
    zones = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=pulumi.InvokeOptions(provider=provider, parent=parent),
    )
    return sorted(zones.names)[:MAX_DEFAULT_ZONES]


class Network(pulumi.ComponentResource):
    """Subnets for nodes (private) and for internet-facing load balancers (public)."""

    vpc_id: pulumi.Input[str]
    """The VPC the cluster and EFS live in."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets without public addresses: nodes, EFS mount targets, the control plane's ENIs."""
    public_subnet_ids: Sequence[pulumi.Input[str]]
    """Subnets routed to the internet gateway: NAT gateways and internet-facing load balancers."""
    zones: Sequence[str]
    """Availability zones of the private subnets, in order (empty for an existing network)."""

    def __init__(
        self, name: str, block: AmazonWebServices, cluster_name: str, provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("qhub:aws:Network", name, None, opts)
        if block.existing_network is not None:
            # Someone else owns these subnets and their tags; we only place resources in them.
            self.vpc_id = block.existing_network.vpc_id
            self.private_subnet_ids = list(block.existing_network.private_subnet_ids)
            self.public_subnet_ids = list(block.existing_network.public_subnet_ids)
            self.zones = []
        else:
            self._create(name, block, cluster_name, provider)
        self.register_outputs({
            "vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
            "public_subnet_ids": self.public_subnet_ids,
        })

    def _create(self, name: str, block: AmazonWebServices, cluster_name: str, provider: aws.Provider) -> None:
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        zones = pick_zones(block, provider, self)
        cluster_tag = {f"kubernetes.io/cluster/{cluster_name}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=block.vpc_cidr,
            # EKS nodes and EFS mount targets are reached by DNS name inside the VPC.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
            opts=opts,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": name}, opts=opts)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={"Name": f"{name}-public"},
            opts=opts,
        )
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for zone, (private_cidr, public_cidr) in zip(zones, subnet_cidrs(block.vpc_cidr, len(zones)), strict=True):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id, cidr_block=public_cidr, availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1", **cluster_tag},
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=subnet.id, route_table_id=public_routes.id, opts=opts
            )
            public.append(subnet)
            private.append(aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id, cidr_block=private_cidr, availability_zone=zone,
                tags={"Name": f"{name}-private-{zone}", "kubernetes.io/role/internal-elb": "1", **cluster_tag},
                opts=opts,
            ))
        # One NAT gateway is the cheap default; one per zone keeps a zone's egress up when another fails.
        nat_zones = zones if block.nat_gateway_per_zone else zones[:1]
        nats: list[aws.ec2.NatGateway] = []
        for zone, subnet in zip(nat_zones, public, strict=False):
            address = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"}, opts=opts)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{zone}",
                allocation_id=address.id, subnet_id=subnet.id, tags={"Name": f"{name}-nat-{zone}"},
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[gateway]),
            ))
        for index, (zone, subnet) in enumerate(zip(zones, private, strict=True)):
            nat = nats[index] if block.nat_gateway_per_zone else nats[0]
            routes = aws.ec2.RouteTable(
                f"{name}-private-routes-{zone}",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": f"{name}-private-{zone}"},
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=subnet.id, route_table_id=routes.id, opts=opts
            )
        self.vpc_id = vpc.id
        self.private_subnet_ids = [subnet.id for subnet in private]
        self.public_subnet_ids = [subnet.id for subnet in public]
        self.zones = zones
