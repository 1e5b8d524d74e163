"""What makes a spawn fast: images already on the node, and a node already up.

- **Pre-pulled images.** z2jh's continuous pre-puller (`prePuller.continuous`) runs on the user
  group (the chart places it as user servers are placed by default, `singleuser.nodeSelector`
  and the user group's tolerations) and pulls the default image, the images of the profiles that
  start there (`prePuller.extraImages`) and the home init container's. Images that start on
  other groups are pulled by QHub's own DaemonSets (qhub/values/image_puller.py): a GPU
  profile's on its GPU group only, the dask images on the worker group (schedulers and CPU
  workers) and on the GPU group of GPU workers.
- **Warm servers** (`jupyterhub.warm_servers`): z2jh's user placeholders, pause pods sized like
  the default profile's server, which hold room on user nodes (and make the autoscaler add a
  node when they do not fit) until a real server needs it: pod priority (`scheduling.podPriority`)
  lets a user's pod evict one at once, and the evicted placeholder then waits for new room.

Pure functions of the config and of where each node group's pods land; no Pulumi.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from qhub.cluster import Placement
from qhub.config import QHubConfig
from qhub.config.profiles import JupyterLabProfile
from qhub.versions import NETWORK_TOOLS_IMAGE
from qhub.values.image_puller import RESOURCES, PullSet, puller_name, unique

JUPYTERLAB_PULLERS = "jupyterlab-images"
DASK_PULLERS = "dask-images"
# JupyterHub's ByteSpecification (mem_limit, mem_guarantee): K, M, G, T are powers of 1024.
_BYTE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def default_profile(config: QHubConfig) -> JupyterLabProfile:
    """The profile the spawn page preselects: the one marked default, else the first."""
    profiles = config.profiles.jupyterlab
    return next((p for p in profiles if p.default), profiles[0])


def jupyterhub_bytes(value: str | int | float) -> int:
    """Bytes of a KubeSpawner memory option, as JupyterHub reads it (KubeSpawner puts this
    number of bytes into the pod)."""
    text = str(value).strip()
    if text[-1:] in _BYTE_UNITS:
        return int(Decimal(text[:-1]) * _BYTE_UNITS[text[-1]])
    return int(Decimal(text))


def server_resources(profile: JupyterLabProfile) -> dict[str, dict[str, Any]]:
    """The resources of a profile's server container, as KubeSpawner sets them: guarantees as
    requests, limits as limits (Kubernetes takes a limit without a request as both)."""
    override = profile.kubespawner_override
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    if "cpu_guarantee" in override:
        requests["cpu"] = str(override["cpu_guarantee"])
    if "mem_guarantee" in override:
        requests["memory"] = str(jupyterhub_bytes(override["mem_guarantee"]))
    if "cpu_limit" in override:
        limits["cpu"] = str(override["cpu_limit"])
    if "mem_limit" in override:
        limits["memory"] = str(jupyterhub_bytes(override["mem_limit"]))
    requests.update({key: str(value) for key, value in (override.get("extra_resource_guarantees") or {}).items()})
    limits.update({key: str(value) for key, value in (override.get("extra_resource_limits") or {}).items()})
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def scheduling_values(config: QHubConfig) -> dict[str, Any]:
    """`scheduling.userPlaceholder` and `scheduling.podPriority` for `jupyterhub.warm_servers`."""
    warm = config.jupyterhub.warm_servers
    if not warm:
        return {"userPlaceholder": {"enabled": False}, "podPriority": {"enabled": False}}
    return {
        # The chart sizes placeholders from singleuser.cpu/memory unless given resources; QHub's
        # sizes live in the profiles, so the default profile's are given here.
        "userPlaceholder": {"enabled": True, "replicas": warm, "resources": server_resources(default_profile(config))},
        # Without priorities a placeholder holds its room against real servers; with them user
        # pods (priority 0) evict placeholders (-10), and the image pullers (-5) fit beside them.
        # -10 is the cluster autoscaler's default cutoff: pods below it would not add nodes.
        "podPriority": {"enabled": True},
    }


def placed_selector(override: Mapping[str, Any], user_selector: Mapping[str, str]) -> dict[str, str]:
    """Where a profile's servers land: its node_selector merged into the user group's, as
    KubeSpawner merges it (None removes a key)."""
    merged = {**user_selector, **(override.get("node_selector") or {})}
    return {key: value for key, value in merged.items() if value is not None}


def groups_of(selector: Mapping[str, str], groups: Mapping[str, Placement]) -> list[str]:
    """The node groups a pod with this node selector can land on (config order)."""
    return [name for name, placement in groups.items() if placement.node_selector.items() <= selector.items()]


def _extra_image(reference: str) -> dict[str, str]:
    """A prePuller.extraImages entry: z2jh pulls `<name>:<tag>` (a digest splits at its last colon too)."""
    name, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return {"name": reference, "tag": "latest"}
    return {"name": name, "tag": tag}


def _profile_images(entries: Sequence[Mapping[str, Any]], user_selector: Mapping[str, str],
                    init_images: Sequence[str]) -> list[tuple[dict[str, str], str]]:
    """(where a profile's servers land, image) for each image a server of each profile pulls:
    its own and its init containers' (QHub's home folders, z2jh's metadata block).
    `entries` are the hub's profiles (profile_entries)."""
    pulled: list[tuple[dict[str, str], str]] = []
    for entry in entries:
        override = entry["kubespawner_override"]
        selector = placed_selector(override, user_selector)
        pulled += [(selector, image) for image in (override["image"], *init_images)]
    return pulled


def singleuser_image(entries: Sequence[Mapping[str, Any]], user_selector: Mapping[str, str], fallback: str) -> str:
    """`singleuser.image`, which z2jh's puller always pulls and which no server starts from
    (every profile names its image): the default profile's, or the first one's that starts on
    the user group, so that the user nodes pull no image only other nodes run."""
    on_user_group = [e for e in entries if user_selector.items() <= placed_selector(e["kubespawner_override"], user_selector).items()]
    chosen = next((e for e in on_user_group if e["default"]), on_user_group[0] if on_user_group else None)
    return str(chosen["kubespawner_override"]["image"]) if chosen else fallback


def pre_puller_values(entries: Sequence[Mapping[str, Any]], user_selector: Mapping[str, str],
                      default_image: str, init_images: Sequence[str]) -> dict[str, Any]:
    """z2jh's `prePuller`: the continuous puller on the user group with every image a profile
    starts there besides `singleuser.image` and `singleuser.networkTools.image` (which the chart
    pulls anyway)."""
    pulled_anyway = {default_image, NETWORK_TOOLS_IMAGE}
    on_user_group = unique(image for selector, image in _profile_images(entries, user_selector, init_images)
                           if user_selector.items() <= selector.items() and image not in pulled_anyway)
    return {
        # The hook puller stays off: it runs inside `helm upgrade` and waits until every user
        # node has pulled every image (several GB each, minutes per node), within the release's
        # 900 s timeout; past it the atomic release rolls back, and any image change would risk
        # that. The continuous puller pulls in the background instead, on every node as it joins.
        "hook": {"enabled": False},
        "continuous": {"enabled": True},
        # QHub's profiles reach the hub in its ConfigMap, not singleuser.profileList.
        "pullProfileListImages": False,
        "extraImages": {f"qhub-{hashlib.sha256(image.encode()).hexdigest()[:10]}": _extra_image(image) for image in on_user_group},
        # The chart gives its pullers none; QHub's own pullers' (image_puller.py).
        "resources": {key: dict(value) for key, value in RESOURCES.items()},
    }


def _pull_sets(prefix: str, wanted: Iterable[tuple[Mapping[str, str], str]], groups: Mapping[str, Placement],
               skip: Iterable[str] = ()) -> list[PullSet]:
    """One PullSet per node group that some wanted image lands on, but the skipped ones."""
    images: dict[str, list[str]] = {}
    for selector, image in wanted:
        for group in groups_of(selector, groups):
            if group not in skip:
                images.setdefault(group, []).append(image)
    return [
        PullSet(puller_name(prefix, group), dict(groups[group].node_selector),
                tuple(dict(t) for t in groups[group].tolerations), unique(images[group]))
        for group in groups if group in images
    ]


def jupyterlab_pull_sets(entries: Sequence[Mapping[str, Any]], groups: Mapping[str, Placement],
                         user_group: str, init_images: Sequence[str]) -> list[PullSet]:
    """QHub's pullers of the profiles' images on the groups other than the user group (which
    z2jh's continuous puller covers): each GPU profile's image on its GPU group only."""
    user_selector = groups[user_group].node_selector
    return _pull_sets(JUPYTERLAB_PULLERS, _profile_images(entries, user_selector, init_images), groups, skip=[user_group])


def init_images(home_init_image: str) -> tuple[str, ...]:
    """The images of the init containers every user server starts: QHub's home folders and z2jh's
    cloud-metadata block (`singleuser.cloudMetadata.blockWithIptables`, on by the chart's default)."""
    return (home_init_image, NETWORK_TOOLS_IMAGE)


def dask_pull_sets(settings: Mapping[str, Any], groups: Mapping[str, Placement]) -> list[PullSet]:
    """QHub's pullers of the dask images: every profile's on the scheduler's (worker) group, and
    each profile's on the group its workers land on (the GPU group for GPU profiles)."""
    scheduler = settings["worker_placement"]["nodeSelector"]
    wanted: list[tuple[Mapping[str, str], str]] = []
    for profile in settings["profiles"].values():
        workers = settings["gpu_placement" if profile["worker_gpus"] else "worker_placement"]["nodeSelector"]
        wanted += [(scheduler, profile["image"]), (workers, profile["image"])]
    return _pull_sets(DASK_PULLERS, wanted, groups)
