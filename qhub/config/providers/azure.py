"""The `azure` block."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from qhub.config.providers.common import CloudBlock, NodeGroup, NodeGroupName, check_required_groups


class AzureNodeGroup(NodeGroup):
    """An AKS agent pool."""

    instance_pattern = re.compile(r"^(Standard|Basic)_[A-Z][A-Za-z0-9_-]*$")
    instance_examples = "Standard_D4s_v5, Standard_E8s_v5, Standard_NC4as_T4_v3"
    cloud_label = "Azure VM size"

    @property
    def is_gpu(self) -> bool:
        return self.gpu or bool(re.match(r"^Standard_N[CDV]", self.instance))


class Azure(CloudBlock):
    """AKS in one Azure region."""

    region_pattern = re.compile(r"^[a-z]+[a-z0-9]*$")
    region_examples = "eastus, westeurope, centralus"

    storage_account_postfix: str | None = Field(None, pattern=r"^[a-z0-9]{1,8}$", description="Suffix that makes storage account names globally unique.")
    node_groups: dict[NodeGroupName, AzureNodeGroup] = Field(description="Agent pools by name; general (the System pool), user and worker are required.")

    @field_validator("node_groups")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, AzureNodeGroup]) -> dict[str, AzureNodeGroup]:
        check_required_groups(groups)
        return groups
