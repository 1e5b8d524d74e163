"""What every cloud's provider block shares: node groups and the checks on them."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, field_validator, model_validator

from qhub.config.base import Model, Problem, rule_error, rules_error
from qhub.config.errors import clip, quote, shown
from qhub.versions import DEFAULT_KUBERNETES_VERSION

# Node group names become cloud resource names and Kubernetes label values.
NodeGroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")]

# The groups the platform places its pods on: hub and services, user servers, dask workers.
REQUIRED_NODE_GROUPS = ("general", "user", "worker")


class NodeGroup(Model):
    """One autoscaling group of identical nodes."""

    instance: str = Field(description="The cloud's machine type for this group's nodes.")
    # At most 1,000: the largest node pool any of the clouds allows (AKS and GKE).
    min_nodes: int = Field(0, le=1000, description="Fewest nodes the autoscaler keeps (0 lets the group scale to zero where the cloud allows it).")
    max_nodes: int = Field(1, le=1000, description="Most nodes the autoscaler may start (at most 1000).")
    gpu: bool = Field(False, description="Nodes carry NVIDIA GPUs: tainted nvidia.com/gpu and given the device plugin.")
    disk_size_gb: int = Field(50, ge=20, le=16384, description="Root disk size of each node in GiB.")
    spot: bool = Field(False, description="Use spot/preemptible capacity (cheaper, may be reclaimed).")

    # The pattern a machine type of this cloud has; set by each provider's subclass.
    instance_pattern: ClassVar[re.Pattern[str]] = re.compile(r".+")
    instance_examples: ClassVar[str] = ""
    cloud_label: ClassVar[str] = ""

    @field_validator("instance")
    @classmethod
    def _instance_is_this_clouds(cls, value: str) -> str:
        if not cls.instance_pattern.match(value):
            raise rule_error(f"{{value!r}} is not a machine type of {cls.cloud_label}; expected one like {cls.instance_examples}", value=value)
        return value

    @model_validator(mode="after")
    def _sizes_make_sense(self) -> NodeGroup:
        problems: list[Problem] = []
        if self.min_nodes < 0:
            problems.append((("min_nodes",), f"min_nodes is {shown(self.min_nodes)}; it must be 0 or more"))
        if self.max_nodes < 1:
            problems.append((("max_nodes",), f"max_nodes is {shown(self.max_nodes)}; it must be at least 1"))
        elif self.max_nodes < self.min_nodes:
            problems.append((("max_nodes",), f"max_nodes ({shown(self.max_nodes)}) is below min_nodes ({shown(self.min_nodes)}); max_nodes must be >= min_nodes"))
        if problems:
            raise rules_error(problems)
        return self

    @property
    def is_gpu(self) -> bool:
        """Whether pods asking for nvidia.com/gpu can run on this group."""
        return self.gpu

    # Machine types of this cloud whose GPUs are AMD's (amd.com/gpu, not nvidia.com/gpu); set by
    # the subclasses of clouds that offer them.
    amd_gpu_pattern: ClassVar[re.Pattern[str] | None] = None

    @model_validator(mode="after")
    def _gpus_are_nvidia(self) -> NodeGroup:
        # The platform taints, equips and schedules NVIDIA GPUs only: an AMD machine flagged as a
        # GPU group would get the wrong device plugin and its GPU pods would never schedule.
        if self.gpu and self.amd_gpu_pattern and self.amd_gpu_pattern.match(self.instance):
            raise rules_error([(("gpu",), f"gpu is true but {quote(self.instance)} has AMD GPUs; QHub schedules NVIDIA GPUs (nvidia.com/gpu) only")])
        return self


def check_required_groups(groups: dict[str, NodeGroup] | dict[str, object]) -> None:
    """The platform needs the general, user and worker groups; more are allowed. general is never
    spot capacity: the hub, conda-store and the other state-bearing pods live there."""
    # Reported at each missing group's key, as pydantic reports a missing key.
    problems: list[Problem] = [
        ((name,), "node group missing; every cluster needs general, user and worker (more groups are allowed)")
        for name in REQUIRED_NODE_GROUPS if name not in groups
    ]
    if getattr(groups.get("general"), "spot", False):
        problems.append((("general", "spot"), "spot is true, but general runs the hub, conda-store, the NFS server and "
                         "SSH, which a reclaimed node would stop; set it to false (spot is allowed on user, worker and "
                         "your other groups)"))
    if problems:
        raise rules_error(problems)


class CloudBlock(Model):
    """Fields every managed-Kubernetes provider block has."""

    region: str = Field(description="The cloud region the cluster runs in. Changing it recreates everything.", json_schema_extra={"immutable": True})
    kubernetes_version: str = Field(DEFAULT_KUBERNETES_VERSION, description="Kubernetes version of the control plane and nodes, pinned (minor or full version).")

    region_pattern: ClassVar[re.Pattern[str]] = re.compile(r".+")
    region_examples: ClassVar[str] = ""

    @field_validator("region")
    @classmethod
    def _region_looks_right(cls, value: str) -> str:
        if not cls.region_pattern.match(value):
            raise rule_error(f"{{value!r}} is not a region of this cloud; expected one like {cls.region_examples}", value=value)
        return value

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version_is_text(cls, value: object) -> object:
        # YAML reads 1.30 as the float 1.3; refuse rather than guess which version was meant.
        if isinstance(value, float):
            raise rule_error(
                "{value} was read as a number; quote the version, e.g. \"1.35\"", value=value
            )
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version_shape(cls, value: str) -> str:
        if not re.match(r"^1\.\d{1,2}(\.\d+)?([-+][A-Za-z0-9.-]+)?$", value):
            raise rule_error(
                "{value!r} is not a Kubernetes version; expected one like \"1.35\" or \"1.35.2\"",
                value=value,
            )
        return value

    @property
    def kubernetes_minor(self) -> str:
        """The `1.xx` minor of the configured version."""
        return ".".join(self.kubernetes_version.split(".")[:2]).split("-")[0]


def zones_outside_region(key: str, zones: list[str], region: str) -> list[Problem]:
    """The problem with the zones of `key`, if any: availability zones are named after their
    region (`us-west-2a` in `us-west-2`)."""
    outside = [zone for zone in zones if not re.match(rf"^{re.escape(region)}(-?[a-z]|-[a-z0-9-]+)$", zone)]
    if not outside:
        return []
    names = clip(", ".join(shown(zone) for zone in outside), 200)
    region = shown(region)
    return [((key,), f"zone(s) {names} are not in region {region}; zones must be of the form {region}a, {region}b, ...")]
