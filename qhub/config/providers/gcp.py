"""The `google_cloud_platform` block."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from qhub.config.base import Model, empty_list, rule_error, rules_error
from qhub.config.errors import quote
from qhub.config.providers.common import CloudBlock, NodeGroup, NodeGroupName, check_required_groups, zones_outside_region


class GuestAccelerator(Model):
    """GPUs attached to each node of a GKE pool."""

    type: str = Field(pattern=r"^nvidia-[a-z0-9-]+$", description="Accelerator type, e.g. nvidia-tesla-t4 or nvidia-l4.")
    count: int = Field(1, ge=1, le=16, description="GPUs per node.")


class GcpNodeGroup(NodeGroup):
    """A GKE node pool."""

    instance_pattern = re.compile(r"^([a-z][0-9]+[a-z]?-[a-z]+(-[a-z0-9]+)*|([a-z][0-9]+[a-z]?-)?custom-[0-9]+-[0-9]+(-ext)?)$")
    instance_examples = "n2-standard-4, e2-highmem-8, g2-standard-8"
    cloud_label = "GCP Compute Engine"

    guest_accelerators: list[GuestAccelerator] = Field(default_factory=empty_list, description="GPUs attached to each node.")

    @property
    def is_gpu(self) -> bool:
        # a2/a3/g2 machine types come with GPUs attached.
        return self.gpu or bool(self.guest_accelerators) or bool(re.match(r"^(a2|a3|a4|g2|g4)-", self.instance))

    @model_validator(mode="after")
    def _gpu_needs_accelerators(self) -> GcpNodeGroup:
        # GKE attaches GPUs to general-purpose machines only when told which and how many.
        if self.gpu and not self.guest_accelerators and not re.match(r"^(a2|a3|a4|g2|g4)-", self.instance):
            raise rules_error([(("gpu",), (
                f"gpu is true but {quote(self.instance)} has no built-in GPUs; add guest_accelerators, "
                "e.g. [{type: nvidia-tesla-t4, count: 1}], or use a g2/a2 machine type"
            ))])
        return self


class GoogleCloudPlatform(CloudBlock):
    """GKE in one GCP project."""

    region_pattern = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
    region_examples = "us-central1, europe-west4"

    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", description="The GCP project id.", json_schema_extra={"immutable": True})
    zone: str | None = Field(None, description="Zone of zonal resources; defaults to the region's first availability zone.")
    availability_zones: list[str] = Field(default_factory=empty_list, description="Node zones; a single zone makes a zonal cluster, none a regional one.")
    node_groups: dict[NodeGroupName, GcpNodeGroup] = Field(description="Node pools by name; general, user and worker are required. GKE applies min_nodes/max_nodes per zone of the pool.")
    subnet_cidr: str = Field("10.10.0.0/20", description="Primary range of the nodes' subnet. Changing it recreates the network.", json_schema_extra={"immutable": True})
    pods_cidr: str = Field("10.16.0.0/14", description="Secondary range for pod IPs (VPC-native). Changing it recreates the cluster.", json_schema_extra={"immutable": True})
    services_cidr: str = Field("10.20.0.0/20", description="Secondary range for Service IPs. Changing it recreates the cluster.", json_schema_extra={"immutable": True})
    master_cidr: str = Field("172.16.0.0/28", description="A /28 for the control plane's private endpoint (private nodes). Changing it recreates the cluster.", json_schema_extra={"immutable": True})

    @field_validator("node_groups")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, GcpNodeGroup]) -> dict[str, GcpNodeGroup]:
        check_required_groups(groups)
        return groups

    @field_validator("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.ip_network(value)
        except ValueError:
            raise rule_error("{value!r} is not a CIDR block; expected one like 10.10.0.0/20", value=value) from None
        return value

    @model_validator(mode="after")
    def _ranges_disjoint(self) -> GoogleCloudPlatform:
        ranges = {key: ipaddress.ip_network(getattr(self, key)) for key in ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")}
        keys = list(ranges)
        problems = [
            ((second,), f"{ranges[second]} overlaps {first} ({ranges[first]}); subnet_cidr, pods_cidr, services_cidr and master_cidr must be disjoint")
            for i, first in enumerate(keys) for second in keys[i + 1:] if ranges[first].overlaps(ranges[second])
        ]
        if problems:
            raise rules_error(problems)
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> GoogleCloudPlatform:
        problems = zones_outside_region("availability_zones", self.availability_zones, self.region)
        problems += zones_outside_region("zone", [self.zone] if self.zone else [], self.region)
        if problems:
            raise rules_error(problems)
        return self
