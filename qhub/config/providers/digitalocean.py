"""The `digital_ocean` block."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from qhub.config.base import rule_error
from qhub.config.providers.common import CloudBlock, NodeGroup, NodeGroupName, check_required_groups


class DigitalOceanNodeGroup(NodeGroup):
    """A DOKS node pool."""

    instance_pattern = re.compile(
        r"^([a-z]+[0-9]*(_[0-9]+)?-[0-9]+vcpu-[0-9]+(mb|gb)(-[a-z0-9]+)*|c2?-[0-9]+(-intel)?|gpu-[a-z0-9]+x[0-9]+-[0-9]+gb(-[a-z0-9]+)*)$"
    )
    instance_examples = "s-2vcpu-4gb, m6-2vcpu-16gb, gpu-h100x1-80gb"
    cloud_label = "DigitalOcean droplet"

    # AMD Instinct droplets (gpu-mi300x1-192gb, ...); the other gpu-* droplets are NVIDIA's.
    amd_gpu_pattern = re.compile(r"^gpu-mi[0-9]")

    @property
    def is_gpu(self) -> bool:
        return self.gpu or (self.instance.startswith("gpu-") and not self.amd_gpu_pattern.match(self.instance))

    @field_validator("spot")
    @classmethod
    def _no_spot(cls, value: bool) -> bool:
        # DOKS node pools have no spot or preemptible capacity: the flag would be silently ignored.
        if value:
            raise rule_error("spot is true, but DigitalOcean has no spot droplets; remove it or set it to false")
        return value


class DigitalOcean(CloudBlock):
    """DOKS in one DigitalOcean region."""

    region_pattern = re.compile(r"^[a-z]{3}[0-9]$")
    region_examples = "nyc3, ams3, fra1"

    node_groups: dict[NodeGroupName, DigitalOceanNodeGroup] = Field(description="Node pools by name; general, user and worker are required.")
    container_registry: bool = Field(False, description="Create the account's container registry (DigitalOcean allows one per account).")
    vpc_cidr: str | None = Field(None, description="IP range of the cluster's VPC (/16 to /24); DigitalOcean picks a free one when empty. Changing it recreates the VPC.", json_schema_extra={"immutable": True})

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            network = ipaddress.ip_network(value)
        except ValueError:
            raise rule_error("{value!r} is not a CIDR block; expected one like 10.30.0.0/20", value=value) from None
        if not 16 <= network.prefixlen <= 24:
            raise rule_error("{value} must be between /16 and /24", value=value)
        # DOKS puts pods in 10.244.0.0/16 and Services in 10.245.0.0/16 by default.
        if network.overlaps(ipaddress.ip_network("10.244.0.0/15")):
            raise rule_error("{value} overlaps the DOKS pod and Service ranges 10.244.0.0/15; choose another", value=value)
        return value

    @field_validator("node_groups")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, DigitalOceanNodeGroup]) -> dict[str, DigitalOceanNodeGroup]:
        check_required_groups(groups)
        return groups
