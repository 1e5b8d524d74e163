"""The `profiles` section: JupyterLab server sizes and dask worker sizes."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from qhub.config import spawner_options
from qhub.config.base import Model, Problem, empty_list, parse_dask_memory, rule_error, rules_error
from qhub.config.errors import clip, quote

class JupyterLabProfile(Model):
    """One choice on the spawn page."""

    display_name: str = Field(min_length=1, description="Name shown on the spawn page.")
    description: str = Field("", description="Text under the name.")
    users: list[str] = Field(default_factory=empty_list, description="Users who see this profile (with `groups`; all users when both are empty).")
    groups: list[str] = Field(default_factory=empty_list, description="Groups whose members see this profile.")
    default: bool = Field(False, description="Preselected on the spawn page; at most one profile.")
    gpu: int = Field(0, ge=0, le=16, description="GPUs per server (short for extra_resource_limits nvidia.com/gpu): places it on the first GPU node group, or the one kubespawner_override.node_selector names.")
    kubespawner_override: dict[str, Any] = Field(default_factory=dict, description="KubeSpawner options for this profile (cpu_limit, mem_guarantee, image, ...).")

    @field_validator("kubespawner_override")
    @classmethod
    def _known_spawner_options(cls, override: dict[str, Any]) -> dict[str, Any]:
        mapped, problems = spawner_options.checked(override)
        if problems:
            raise rules_error(problems)
        return mapped

    @property
    def gpus(self) -> int:
        """GPUs a server of this profile asks for, by either way of writing it."""
        limits = self.kubespawner_override.get("extra_resource_limits") or {}
        return self.gpu or int(limits.get("nvidia.com/gpu", 0) or 0)


class DaskWorkerProfile(Model):
    """Size and image of the workers of a dask cluster."""

    worker_cores: float = Field(1, gt=0, allow_inf_nan=False, description="Cores each worker requests.")
    worker_cores_limit: float = Field(1, gt=0, allow_inf_nan=False, description="Most cores a worker may use.")
    worker_memory: str = Field("2G", description="Memory each worker requests (4G means 4 GiB, as dask-gateway reads it).")
    worker_memory_limit: str = Field("2G", description="Most memory a worker may use.")
    worker_gpus: int = Field(0, ge=0, le=16, description="GPUs per worker: places workers (not the scheduler) on the first GPU node group.")
    image: str | None = Field(None, description="Worker image; default_images.dask_worker when empty.")

    @field_validator("worker_memory", "worker_memory_limit", mode="before")
    @classmethod
    def _memory(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 10**18:
            value = str(value)
        if not isinstance(value, str) or parse_dask_memory(value) is None:
            raise rule_error("{value!r} is not an amount of memory; expected one like 2G or 512M", value=value)
        return value

    @model_validator(mode="after")
    def _within_limits(self) -> DaskWorkerProfile:
        problems: list[Problem] = []
        if self.worker_cores > self.worker_cores_limit:
            problems.append((("worker_cores",), f"{self.worker_cores:g} exceeds worker_cores_limit {self.worker_cores_limit:g}; the request must not exceed the limit"))
        if parse_dask_memory(self.worker_memory) > parse_dask_memory(self.worker_memory_limit):  # type: ignore[operator]
            problems.append((("worker_memory",), f"{clip(self.worker_memory)} exceeds worker_memory_limit {clip(self.worker_memory_limit)}; the request must not exceed the limit"))
        if problems:
            raise rules_error(problems)
        return self


def _default_jupyterlab_profiles() -> list[JupyterLabProfile]:
    return [
        JupyterLabProfile(display_name="Small Instance", description="1 CPU / 4 GB", default=True,
                          kubespawner_override={"cpu_limit": 1, "cpu_guarantee": 0.75, "mem_limit": "4G", "mem_guarantee": "3G"}),
        JupyterLabProfile(display_name="Medium Instance", description="2 CPU / 8 GB",
                          kubespawner_override={"cpu_limit": 2, "cpu_guarantee": 1.5, "mem_limit": "8G", "mem_guarantee": "6G"}),
    ]


def _default_dask_profiles() -> dict[str, DaskWorkerProfile]:
    return {
        "Small Worker": DaskWorkerProfile(worker_cores=0.75, worker_cores_limit=1, worker_memory="3G", worker_memory_limit="4G"),
        "Medium Worker": DaskWorkerProfile(worker_cores=1.5, worker_cores_limit=2, worker_memory="6G", worker_memory_limit="8G"),
    }


class Profiles(Model):
    """Server and worker sizes users choose from."""

    jupyterlab: list[JupyterLabProfile] = Field(default_factory=_default_jupyterlab_profiles, min_length=1, description="Spawn-page choices.")
    dask_worker: dict[str, DaskWorkerProfile] = Field(default_factory=_default_dask_profiles, min_length=1, description="Dask worker sizes by name.")

    @field_validator("jupyterlab")
    @classmethod
    def _one_default(cls, profiles: list[JupyterLabProfile]) -> list[JupyterLabProfile]:
        # Each finding at the profile that breaks the rule: the second default, the second use
        # of a name.
        problems: list[Problem] = []
        defaults = [index for index, p in enumerate(profiles) if p.default]
        if len(defaults) > 1:
            names = clip(", ".join(quote(profiles[i].display_name) for i in defaults), 200)
            problems += [((index, "default"), f"{len(defaults)} profiles are marked default ({names}); at most one may be")
                         for index in defaults[1:]]
        first_use: dict[str, int] = {}
        for index, profile in enumerate(profiles):
            earlier = first_use.setdefault(profile.display_name, index)
            if earlier != index:
                problems.append(((index, "display_name"), f"{quote(profile.display_name)} is already the name of jupyterlab[{earlier}]; names must be unique"))
        if problems:
            raise rules_error(problems)
        return profiles
