"""The KubeSpawner options a profile's `kubespawner_override` may set, and the checks on them.

The options reach the hub as JSON inside its data ConfigMap, and KubeSpawner reads them as
traitlets at spawn time: a value either cannot carry would fail a deploy or every spawn of the
profile, long after `qhub validate` said yes. So they are checked here.
"""

from __future__ import annotations

import math
import re
from typing import Any

from qhub.config.base import Problem
from qhub.config.errors import quote

# The KubeSpawner (7.0.0) options a profile may override. KubeSpawner applies overrides with
# setattr and silently drops unknown names, so a typo here would do nothing; we refuse it instead.
# uid, gid, supplemental_gids and fs_gid are left out: QHub sets them from security.users.
KUBESPAWNER_OVERRIDE_KEYS = frozenset({
    "args", "cmd", "cpu_guarantee", "cpu_limit", "default_url", "environment",
    "extra_annotations", "extra_container_config", "extra_containers", "extra_labels",
    "extra_pod_config", "extra_resource_guarantees", "extra_resource_limits", "image",
    "image_pull_policy", "image_pull_secrets", "lifecycle_hooks",
    "mem_guarantee", "mem_limit", "node_affinity_preferred", "node_affinity_required",
    "node_selector", "notebook_dir", "pod_affinity_preferred", "pod_affinity_required",
    "pod_anti_affinity_preferred", "pod_anti_affinity_required", "priority_class_name",
    "start_timeout", "storage_capacity", "tolerations", "working_dir",
})
# Options the hub fills before KubeSpawner applies the profile's override (z2jh's entries, then
# QHub's pre_spawn_hook: the home mount, group folders, conda environments, the home init
# container). KubeSpawner sets an override that is not a mapping merged into a mapping by
# replacing the whole value, so a profile's list would silently drop all of those. Refused, with
# what to do instead.
HUB_FILLED_KEYS = {
    "volumes": "share files through the group folders (/home/shared/<group>) and conda-store's environments",
    "volume_mounts": "share files through the group folders (/home/shared/<group>) and conda-store's environments",
    "init_containers": "put setup steps into the image (image/jupyterlab) or into lifecycle_hooks.postStart",
}
# The seed format's misspellings, mapped to the KubeSpawner names they mean.
KUBESPAWNER_ALIASES = {"cpu_guarentee": "cpu_guarantee", "mem_guarentee": "mem_guarantee"}
QHUB_MANAGED_KEYS = frozenset({"uid", "gid", "supplemental_gids", "fs_gid"})

# KubeSpawner's cpu_* are traitlets Floats; its mem_* are JupyterHub ByteSpecifications: a
# number of bytes, or a number with one of the suffixes K, M, G, T (powers of 1024).
CPU_OPTIONS = frozenset({"cpu_limit", "cpu_guarantee"})
MEMORY_OPTIONS = frozenset({"mem_limit", "mem_guarantee"})
_BYTE_SPECIFICATION = re.compile(r"^[0-9]+(\.[0-9]+)?[KMGT]$")
# JSON integers beyond 64 bits are not read back as numbers everywhere.
_INT64 = 2**63


def checked(override: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The override with the seed's misspellings mapped to KubeSpawner's names, and every
    problem with it, each at its key below `kubespawner_override`."""
    mapped: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in override.items():
        name = KUBESPAWNER_ALIASES.get(key, key)
        problem = _name_problem(key, name) or _json_problem((key,), value) or _value_problem(key, name, value)
        if problem:
            problems.append(problem)
        else:
            mapped[name] = value
    return mapped, problems


def _name_problem(key: str, name: str) -> Problem | None:
    if name in QHUB_MANAGED_KEYS:
        return ((key,), "set from security.users and security.groups; a profile cannot override it")
    if name in HUB_FILLED_KEYS:
        return ((key,), "a profile cannot set it: KubeSpawner would replace the hub's whole list, dropping the home "
                        "folder, the group folders, the conda environments and the hub's init containers; "
                        f"instead, {HUB_FILLED_KEYS[name]}")
    if name not in KUBESPAWNER_OVERRIDE_KEYS:
        import difflib  # only on error: keeps `qhub validate` fast

        close = difflib.get_close_matches(name, KUBESPAWNER_OVERRIDE_KEYS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return ((key,), f"not a KubeSpawner option a profile can set; {hint}allowed: {', '.join(sorted(KUBESPAWNER_OVERRIDE_KEYS))}")
    return None


def _json_problem(path: tuple[str | int, ...], value: Any) -> Problem | None:
    """The first part of `value` that JSON cannot carry to the hub as it was written."""
    if value is None or isinstance(value, (str, bool)):
        return None
    if isinstance(value, int):
        return None if -_INT64 <= value < _INT64 else (path, f"{quote(value)} is too large; numbers here must fit in 64 bits")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{quote(value)} is not a finite number")
    if isinstance(value, list):
        return next(filter(None, (_json_problem((*path, i), item) for i, item in enumerate(value))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return ((*path, key), f"keys here must be text, got {quote(key)}")
            if problem := _json_problem((*path, key), item):
                return problem
        return None
    return (path, f"{quote(value)} is not text, a number, true/false, a list or a mapping; quote it to keep it as text")


def _value_problem(key: str, name: str, value: Any) -> Problem | None:
    if name in CPU_OPTIONS and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        return ((key,), f"{quote(value)} is not a number of cores; expected a number above 0, like 1 or 0.5")
    if name in MEMORY_OPTIONS:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and value > 0) and not (isinstance(value, str) and _BYTE_SPECIFICATION.match(value)):
            return ((key,), f"{quote(value)} is not an amount of memory KubeSpawner reads; expected bytes or a number with K, M, G or T, like 4G or 512M")
    if name == "extra_resource_limits":
        return _gpu_limit_problem(key, value)
    return None


def _gpu_limit_problem(key: str, limits: object) -> Problem | None:
    """What is wrong with an `extra_resource_limits` override, which a profile's GPU count is
    read from: KubeSpawner takes a mapping of resource names to quantities, and GPUs come whole."""
    if not isinstance(limits, dict):
        return ((key,), f"expected a mapping of resource names to limits, like {{nvidia.com/gpu: 1}}; got {quote(limits)}")
    gpus = limits.get("nvidia.com/gpu")
    if isinstance(gpus, str) and re.fullmatch(r"[0-9]{1,2}", gpus):  # a quoted count, as Kubernetes quantities may be
        gpus = int(gpus)
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, int) or not 0 <= gpus <= 16):
        return ((key, "nvidia.com/gpu"), f"{quote(gpus)} is not a number of GPUs; expected a whole number from 0 to 16")
    return None
