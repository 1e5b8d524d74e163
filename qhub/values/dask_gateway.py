"""Helm values of the dask-gateway chart, and the settings its cluster options run with.

The gateway authenticates users through JupyterHub (as the hub service `dask-gateway`) with
an API token the chart reads from a Kubernetes Secret (`apiTokenFromSecretName/Key`), so no
token is ever in these values. The gateway's HTTP API is served under the hub's proxy at
/services/dask-gateway (the hub routes it to the chart's Traefik), so it needs no Ingress of
its own and no second load balancer: Traefik's Service is ClusterIP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qhub import versions
from qhub.cluster import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE, Placement, tolerations_for
from qhub.config import QHubConfig
from qhub.values import dask_gateway_config
from qhub.values.conda_store import CondaMount, environment_prefix
from qhub.values.hub_integration import SecretKeyRef
from qhub.values.jupyterhub import deep_merge

# Requests of the release's pods on general (without them they are the first evicted when a
# node runs short), with memory limits well above what they use at rest.
GATEWAY_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
CONTROLLER_RESOURCES = {"requests": {"cpu": "20m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
TRAEFIK_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}

RELEASE_NAME = "dask-gateway"
HUB_SERVICE_NAME = "dask-gateway"
PREFIX = f"/services/{HUB_SERVICE_NAME}"
# fullnameOverride makes the chart's names fixed: api-dask-gateway, traefik-dask-gateway.
TRAEFIK_SERVICE = f"traefik-{RELEASE_NAME}"
# The chart's Traefik listens for HTTP and, sharing the port by default, scheduler TCP on 8000.
TRAEFIK_CONTAINER_PORT = 8000
# PATH of the dask-gateway image, kept after an environment's bin directory.
IMAGE_PATH = "/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_CONFIG_SOURCE = Path(dask_gateway_config.__file__).read_text()


def traefik_url(namespace: str) -> str:
    """In-cluster HTTP address of the gateway's proxy (the hub service's URL)."""
    return f"http://{TRAEFIK_SERVICE}.{namespace}:80"


def split_image(image: str) -> tuple[str, str]:
    """`name[:tag]` split at the tag colon (a registry port is not a tag; "" when untagged).

    A digest reference stays whole: the chart joins name and tag only when the tag is set.
    """
    name, sep, tag = image.rpartition(":")
    if "@" in image or not sep or "/" in tag:
        return image, ""
    return name, tag


def gateway_settings(
    config: QHubConfig, *, worker_selector: Mapping[str, str], gpu_selector: Mapping[str, str] | None,
    conda: CondaMount, placements: Sequence[Placement] = (),
) -> dict[str, Any]:
    """The JSON the gateway's cluster options are built from (see dask_gateway_config.py).

    `placements`: every node group's selector and tolerations (ClusterOutputs.placements); the
    pods tolerate the taints of the group they land on (GPU, AKS spot).
    Linear in profiles and environments: each is visited once.
    """
    default_image = config.default_images.dask_worker
    profiles = {
        name: {
            "worker_cores": profile.worker_cores,
            "worker_cores_limit": profile.worker_cores_limit,
            "worker_memory": profile.worker_memory,
            "worker_memory_limit": profile.worker_memory_limit,
            "worker_gpus": profile.worker_gpus,
            "image": profile.image or default_image,
        }
        for name, profile in config.profiles.dask_worker.items()
    }
    environments = {env.name: environment_prefix(env.name) for env in config.environments.values()}
    gpu_toleration = {"key": GPU_TAINT_KEY, "operator": "Equal", "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}
    worker_tolerations = tolerations_for(worker_selector, placements)
    gpu_tolerations = [gpu_toleration, *(t for t in tolerations_for(gpu_selector or worker_selector, placements)
                                          if t != gpu_toleration)]
    return {
        "profiles": profiles,
        "default_profile": next(iter(profiles)),
        "environments": environments,
        "default_environment": next(iter(environments), None),
        "worker_placement": {"nodeSelector": dict(worker_selector),
                             **({"tolerations": worker_tolerations} if worker_tolerations else {})},
        "gpu_placement": {"nodeSelector": dict(gpu_selector or worker_selector), "tolerations": gpu_tolerations},
        "volumes": [conda.volume()],
        "volume_mounts": [conda.volume_mount()],
        "image_path": IMAGE_PATH,
        "idle_timeout_seconds": config.dask_gateway.idle_timeout_minutes * 60,
        "cluster_max_workers": config.dask_gateway.cluster_max_workers,
    }


def dask_gateway_values(
    config: QHubConfig, *, settings: Mapping[str, Any], general_selector: Mapping[str, str],
    token: SecretKeyRef, hub_api_url: str,
) -> dict[str, Any]:
    """Values of the pinned dask-gateway chart."""
    backend_name, backend_tag = split_image(config.default_images.dask_worker)
    server_name, server_tag = split_image(versions.DASK_GATEWAY_SERVER_IMAGE)
    worker_placement = settings["worker_placement"]
    base_pod = dict(worker_placement, volumes=list(settings["volumes"]))
    base_container = {"volumeMounts": list(settings["volume_mounts"])}
    general = dict(general_selector)
    chart_values: dict[str, Any] = {
        "fullnameOverride": RELEASE_NAME,
        "gateway": {
            "prefix": PREFIX,
            "image": {"name": server_name, "tag": server_tag},
            "nodeSelector": general,
            "resources": GATEWAY_RESOURCES,
            # The options' settings travel as data (in config order, which the UI keeps); the code
            # reading them is dask_gateway_config.py.
            "env": [{"name": dask_gateway_config.SETTINGS_ENV, "value": json.dumps(settings)}],
            "auth": {
                "type": "jupyterhub",
                "jupyterhub": {
                    "apiTokenFromSecretName": token.name,
                    "apiTokenFromSecretKey": token.key,
                    "apiUrl": hub_api_url,
                    # Only tokens allowed access:services!service=dask-gateway may use the gateway.
                    "jupyterhubServiceName": HUB_SERVICE_NAME,
                },
            },
            "extraConfig": {"qhub-cluster-options": _CONFIG_SOURCE},
            "backend": {
                "image": {"name": backend_name, "tag": backend_tag},
                "namespace": config.namespace,
                # Defaults for the cluster config; the options handler sets them per cluster too.
                "scheduler": {"extraPodConfig": base_pod, "extraContainerConfig": base_container},
                "worker": {"extraPodConfig": base_pod, "extraContainerConfig": base_container},
            },
        },
        "controller": {
            "nodeSelector": general,
            "image": {"name": server_name, "tag": server_tag},
            "resources": CONTROLLER_RESOURCES,
        },
        "traefik": {
            "nodeSelector": general,
            "service": {"type": "ClusterIP"},
            "resources": TRAEFIK_RESOURCES,
        },
    }
    # The admin's chart values last (dask_gateway.overrides, checked by the config model: no
    # key QHub owns, no secret, valid for the chart).
    return deep_merge(chart_values, config.dask_gateway.overrides)


def user_egress() -> dict[str, object]:
    """The NetworkPolicy rule that lets user servers reach the gateway's proxy: its API and,
    on the same port (the chart's default tcp port "web"), the schedulers' TLS connections."""
    return {
        "to": [{"podSelector": {"matchLabels": {
            "app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/instance": RELEASE_NAME,
            "app.kubernetes.io/component": "traefik",
        }}}],
        # The proxy container's port; a policy sees pod ports, not the Service's port 80.
        "ports": [{"port": TRAEFIK_CONTAINER_PORT, "protocol": "TCP"}],
    }


def user_environment(config: QHubConfig) -> dict[str, str]:
    """Settings that make `dask_gateway.Gateway()` work with no arguments in a user server."""
    return {
        "DASK_GATEWAY__ADDRESS": f"{traefik_url(config.namespace)}{PREFIX}",
        "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{TRAEFIK_SERVICE}.{config.namespace}:80",
        "DASK_GATEWAY__PUBLIC_ADDRESS": f"https://{config.domain}{PREFIX}",
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
    }


def public_address(config: QHubConfig) -> str:
    return f"https://{config.domain}{PREFIX}"


__all__: Sequence[str] = (
    "dask_gateway_values", "gateway_settings", "user_egress", "user_environment", "public_address", "traefik_url",
)
