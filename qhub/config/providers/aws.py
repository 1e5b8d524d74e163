"""The `amazon_web_services` block."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from qhub.config.base import Model, empty_list, rule_error, rules_error
from qhub.config.providers.common import CloudBlock, NodeGroup, NodeGroupName, check_required_groups, zones_outside_region

# g4dn, g5, g5g, g6, g6e, gr6, p3, p4d, p5, ... carry NVIDIA GPUs.
AWS_GPU_FAMILY = re.compile(r"^(g4dn|g5|g5g|g6|g6e|g6f|gr6|gr6f|g7e|p[2-6][a-z0-9]*)\.")


class AwsNodeGroup(NodeGroup):
    """A managed node group on EKS."""

    instance_pattern = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$")
    instance_examples = "m5.large, m6i.2xlarge, g5.xlarge"
    cloud_label = "AWS EC2"
    # g4ad carries AMD Radeon GPUs.
    amd_gpu_pattern = re.compile(r"^g4ad\.")

    @property
    def is_gpu(self) -> bool:
        return self.gpu or bool(AWS_GPU_FAMILY.match(self.instance))


class ExistingNetwork(Model):
    """Subnets of a VPC made elsewhere, used instead of creating a network."""

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="The VPC's id.")
    private_subnet_ids: list[str] = Field(min_length=2, description="Subnets for nodes, in at least two zones.")
    public_subnet_ids: list[str] = Field(default_factory=empty_list, description="Subnets for internet-facing load balancers.")


class AmazonWebServices(CloudBlock):
    """EKS in one AWS region."""

    region_pattern = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
    region_examples = "us-west-2, eu-central-1"

    availability_zones: list[str] = Field(default_factory=empty_list, description="Zones for subnets; empty takes the region's first two or three.")
    node_groups: dict[NodeGroupName, AwsNodeGroup] = Field(description="Node groups by name; general, user and worker are required.")
    vpc_cidr: str = Field("10.10.0.0/16", description="CIDR of the VPC the program creates. Changing it recreates the network.", json_schema_extra={"immutable": True})
    nat_gateway_per_zone: bool = Field(False, description="One NAT gateway per zone (resilient) instead of one shared (cheaper).")
    existing_network: ExistingNetwork | None = Field(None, description="Use these subnets instead of creating a VPC.")
    endpoint_public_access_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], description="CIDRs allowed to reach the public Kubernetes API endpoint.")

    @field_validator("node_groups")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, AwsNodeGroup]) -> dict[str, AwsNodeGroup]:
        check_required_groups(groups)
        return groups

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value)
        except ValueError:
            raise rule_error("{value!r} is not a CIDR block; expected one like 10.10.0.0/16", value=value) from None
        if not 16 <= network.prefixlen <= 20:
            raise rule_error("{value} must be between /16 and /20 to hold a public and a private subnet per zone", value=value)
        return value

    @field_validator("endpoint_public_access_cidrs")
    @classmethod
    def _allow_list(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError:
                raise rule_error("{value!r} is not a CIDR block; expected one like 203.0.113.0/24", value=value) from None
        return values

    @model_validator(mode="after")
    def _zones_in_region(self) -> AmazonWebServices:
        if problems := zones_outside_region("availability_zones", self.availability_zones, self.region):
            raise rules_error(problems)
        return self
