"""The `existing` block: a cluster someone else runs."""

from __future__ import annotations

from pydantic import Field, field_validator

from qhub.config.base import Model
from qhub.config.providers.common import NodeGroupName, check_required_groups


class NodeSelector(Model):
    """The node label that places a group's pods."""

    key: str = Field(min_length=1, description="Label key, e.g. kubernetes.io/hostname.")
    value: str = Field(description="Label value.")
    gpu: bool = Field(False, description="The group's nodes have NVIDIA GPUs and carry the nvidia.com/gpu taint.")


class Existing(Model):
    """Deploy the platform onto a cluster reachable through a kubeconfig context."""

    kube_context: str | None = Field(None, description="Context of the local kubeconfig to use; the current context when empty.")
    node_selectors: dict[NodeGroupName, NodeSelector] = Field(description="Label selecting each group's nodes; general, user and worker are required.")
    storage_class: str = Field("standard", description="Block storage class for the platform's volumes.")

    @field_validator("node_selectors")
    @classmethod
    def _has_required_groups(cls, groups: dict[str, NodeSelector]) -> dict[str, NodeSelector]:
        check_required_groups(groups)
        return groups
