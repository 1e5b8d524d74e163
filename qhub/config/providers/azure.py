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


# Azure's public-cloud regions: display name -> programmatic name, as
# `az account list-locations --query "[?metadata.regionType=='Physical'].[displayName,name]"`
# lists them. QHub's own Azure templates wrote display names (`region: Central US`), which Azure
# accepts; resources, DNS labels and outputs need the programmatic name, so the config turns one
# into the other. A region newer than this table still works by its programmatic name (with a
# warning, see qhub/config/warnings.py).
AZURE_REGIONS = {
    # Americas
    "East US": "eastus", "East US 2": "eastus2", "Central US": "centralus",
    "North Central US": "northcentralus", "South Central US": "southcentralus",
    "West Central US": "westcentralus", "West US": "westus", "West US 2": "westus2",
    "West US 3": "westus3", "Canada Central": "canadacentral", "Canada East": "canadaeast",
    "Mexico Central": "mexicocentral", "Brazil South": "brazilsouth",
    "Brazil Southeast": "brazilsoutheast",
    # Europe
    "North Europe": "northeurope", "West Europe": "westeurope", "UK South": "uksouth",
    "UK West": "ukwest", "France Central": "francecentral", "France South": "francesouth",
    "Germany West Central": "germanywestcentral", "Germany North": "germanynorth",
    "Switzerland North": "switzerlandnorth", "Switzerland West": "switzerlandwest",
    "Norway East": "norwayeast", "Norway West": "norwaywest", "Sweden Central": "swedencentral",
    "Sweden South": "swedensouth", "Poland Central": "polandcentral", "Italy North": "italynorth",
    "Spain Central": "spaincentral",
    # Middle East and Africa
    "UAE North": "uaenorth", "UAE Central": "uaecentral", "Qatar Central": "qatarcentral",
    "Israel Central": "israelcentral", "South Africa North": "southafricanorth",
    "South Africa West": "southafricawest",
    # Asia Pacific
    "East Asia": "eastasia", "Southeast Asia": "southeastasia", "Japan East": "japaneast",
    "Japan West": "japanwest", "Korea Central": "koreacentral", "Korea South": "koreasouth",
    "Central India": "centralindia", "South India": "southindia", "West India": "westindia",
    "Jio India Central": "jioindiacentral", "Jio India West": "jioindiawest",
    "Australia East": "australiaeast", "Australia Southeast": "australiasoutheast",
    "Australia Central": "australiacentral", "Australia Central 2": "australiacentral2",
    "New Zealand North": "newzealandnorth", "Indonesia Central": "indonesiacentral",
    "Malaysia West": "malaysiawest", "Taiwan North": "taiwannorth",
    "Taiwan Northwest": "taiwannorthwest",
}
_BY_DISPLAY_NAME = {name.casefold(): programmatic for name, programmatic in AZURE_REGIONS.items()}
_PROGRAMMATIC_NAMES = frozenset(AZURE_REGIONS.values())


def programmatic_region(value: str) -> str | None:
    """The programmatic name of an Azure region written either way (`West Europe`,
    `west  europe`, `WestEurope`, `westeurope`), or None when the table does not know it."""
    words = " ".join(value.split()).casefold()
    return _BY_DISPLAY_NAME.get(words) or (words if words in _PROGRAMMATIC_NAMES else None)


def is_known_region(region: str) -> bool:
    """The region is in Azure's table (not a name only shaped like one)."""
    return region in _PROGRAMMATIC_NAMES


class Azure(CloudBlock):
    """AKS in one Azure region."""

    region_pattern = re.compile(r"^[a-z]+[a-z0-9]*$")
    region_examples = "eastus, westeurope, centralus, or a display name such as 'West Europe'"

    region: str = Field(
        description="Azure region, by programmatic name (westeurope) or display name (West Europe, any case); used as the programmatic name. Changing it recreates everything.",
        json_schema_extra={"immutable": True},
    )
    storage_account_postfix: str | None = Field(None, pattern=r"^[a-z0-9]{1,8}$", description="Suffix that makes storage account names globally unique.")
    node_groups: dict[NodeGroupName, AzureNodeGroup] = Field(description="Agent pools by name; general (the System pool), user and worker are required.")
    subscription_id: str | None = Field(None, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", description="Subscription to deploy into; when empty, the one the Azure login selects.")
    vnet_cidr: str = Field("10.40.0.0/16", description="Address space of the virtual network; nodes use its first /20. Changing it recreates the network.", json_schema_extra={"immutable": True})

    @field_validator("region", mode="before")
    @classmethod
    def _display_name_to_programmatic(cls, value: object) -> object:
        # Before the shape check, so `West Europe` reaches it as `westeurope`; a name the table
        # does not know is left for that check to judge.
        return (programmatic_region(value) or value) if isinstance(value, str) else value

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
