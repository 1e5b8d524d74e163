"""The `azure` block."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from qhub.config.base import rule_error
from qhub.config.providers.common import CloudBlock, NodeGroup, NodeGroupName, check_required_groups


class AzureNodeGroup(NodeGroup):
    """An AKS agent pool."""

    instance_pattern = re.compile(r"^(Standard|Basic)_[A-Z][A-Za-z0-9_-]*$")
    instance_examples = "Standard_D4s_v5, Standard_E8s_v5, Standard_NC4as_T4_v3"
    cloud_label = "Azure VM size"

    # NVv4 (Radeon Instinct MI25) and NVads V710 v5 sizes; the other NC/ND/NV sizes are NVIDIA's.
    amd_gpu_pattern = re.compile(r"^Standard_NV[0-9]+as_v4$|^Standard_NV[0-9]+ads_V710_v5$")

    @property
    def is_gpu(self) -> bool:
        return self.gpu or bool(re.match(r"^Standard_N[CDV]", self.instance) and not self.amd_gpu_pattern.match(self.instance))


class Azure(CloudBlock):
    """AKS in one Azure region."""

    region_pattern = re.compile(r"^[a-z]+[a-z0-9]*$")
    region_examples = "eastus, westeurope, centralus"

    storage_account_postfix: str | None = Field(None, pattern=r"^[a-z0-9]{1,8}$", description="Suffix that makes storage account names globally unique.")
    node_groups: dict[NodeGroupName, AzureNodeGroup] = Field(description="Agent pools by name; general (the System pool), user and worker are required.")
    subscription_id: str | None = Field(None, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="Subscription to deploy into; when empty, the one the Azure login selects.")
    vnet_cidr: str = Field("10.40.0.0/16", description="Address space of the virtual network; nodes use its first /20. Changing it recreates the network.", json_schema_extra={"immutable": True})

    @field_validator("vnet_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value)
        except ValueError:
            raise rule_error("{value!r} is not a CIDR block; expected one like 10.40.0.0/16", value=value) from None
        if not 8 <= network.prefixlen <= 24:
            raise rule_error("{value} must be between /8 and /24 to hold the node subnet", value=value)
        if network.overlaps(ipaddress.ip_network("10.0.0.0/16")) or network.overlaps(ipaddress.ip_network("10.244.0.0/16")):
            raise rule_error("{value} overlaps the cluster's Service range 10.0.0.0/16 or pod range 10.244.0.0/16; choose another", value=value)
        return value

    @field_validator("node_groups")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, AzureNodeGroup]) -> dict[str, AzureNodeGroup]:
        check_required_groups(groups)
        return groups
