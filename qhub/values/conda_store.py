"""conda-store as data: where environments live, how pods mount them, and the settings it runs with.

Pure functions of the config. The platform component (qhub/platform/conda_store.py) turns them
into ConfigMaps and pods; dask-gateway and the hub use `environment_prefix` and the mount so
that every pod sees a built environment at the same absolute path (conda prefixes and the
environment symlinks hard-code it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from qhub.config import QHubConfig
from qhub.config.environments import Environment, PipDependencies

STORE_PATH = "/home/conda"
"""Where the store is mounted in the conda-store pod and, read-only, in user and dask pods."""
FILESYSTEM_NAMESPACE = "shared"
"""conda-store namespace of the environments registered from the config's `environments`."""
STATE_PATH = "/var/lib/conda-store"
"""conda-store's database and build artifacts: on the same volume, but never exported to users."""
ENVIRONMENTS_PATH = "/opt/environments"
"""Where the environment files are mounted; conda-store's worker watches it."""
CONFIG_PATH = "/etc/conda-store"
URL_PREFIX = "/conda-store"
SERVER_PORT = 8080
METRICS_PATH = "/metrics"
"""conda-store's Prometheus metrics: outside URL_PREFIX, so the public route never reaches them."""
STORE_UID = 1000
STORE_GID = 1000
"""The user and group conda-store's image runs as; they own the store and what it builds."""
HUB_SERVICE_NAME = "conda-store"
KERNELS_PATH = "/usr/local/share/jupyter/kernels"
"""A Jupyter data directory of the user image that the image itself leaves empty."""

# Fixed object names: the hub values and the gateway config refer to them as plain strings.
ENVIRONMENTS_CLAIM = "conda-store-environments"
KERNELS_CONFIGMAP = "conda-store-kernels"
VOLUME_NAME = "conda-store"


def environment_prefix(name: str) -> str:
    """Absolute prefix of a built environment (conda-store's environment_directory default)."""
    return f"{STORE_PATH}/{FILESYSTEM_NAMESPACE}/envs/{name}"


@dataclass(frozen=True)
class CondaMount:
    """The read-only volume of built environments, as pod spec fragments."""

    claim_name: str = ENVIRONMENTS_CLAIM

    def volume(self) -> dict[str, Any]:
        return {"name": VOLUME_NAME, "persistentVolumeClaim": {"claimName": self.claim_name, "readOnly": True}}

    def volume_mount(self) -> dict[str, Any]:
        return {"name": VOLUME_NAME, "mountPath": STORE_PATH, "readOnly": True}


def environment_files(config: QHubConfig) -> dict[str, str]:
    """The config's environments as conda environment files, by file name (ConfigMap data)."""
    return {file: yaml.safe_dump(_environment_spec(env), sort_keys=False) for file, env in config.environments.items()}


def _environment_spec(env: Environment) -> dict[str, Any]:
    dependencies: list[Any] = [
        {"pip": list(dep.pip)} if isinstance(dep, PipDependencies) else dep for dep in env.dependencies
    ]
    return {"name": env.name, "channels": list(env.channels), "dependencies": dependencies}


def kernel_specs(config: QHubConfig) -> dict[str, str]:
    """One Jupyter kernelspec per environment (ConfigMap data, key `<name>.json`).

    Mounted into user pods so each built environment is a kernel without nb_conda_kernels in
    the image; a kernel of an environment still building fails to start, then works once built.
    """
    specs = {}
    for env in config.environments.values():
        prefix = environment_prefix(env.name)
        specs[f"{env.name}.json"] = json.dumps({
            "argv": [f"{prefix}/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python [conda env: {env.name}]",
            "language": "python",
            "env": {"CONDA_PREFIX": prefix},
            "metadata": {"debugger": True},
        }, sort_keys=True)
    return specs


def kernel_items(config: QHubConfig) -> list[dict[str, str]]:
    """ConfigMap items placing each spec at `<kernels dir>/conda-<name>/kernel.json`."""
    return [{"key": f"{env.name}.json", "path": f"conda-{env.name}/kernel.json"} for env in config.environments.values()]


def server_settings(config: QHubConfig, *, hub_internal_url: str) -> dict[str, Any]:
    """What qhub/values/conda_store_config.py configures conda-store with (settings.json.gz).

    The browser is sent to the hub's public URL; the token and user look-ups go to the hub
    inside the cluster (conda-store.md, pitfall 3). Role bindings come from the config's users
    and groups, not from the stock class, which makes everyone admin (pitfall 1).
    """
    public = f"https://{config.domain}"
    users = {name: sorted({user.primary_group, *user.secondary_groups}) for name, user in config.security.users.items()}
    return {
        "url_prefix": URL_PREFIX,
        "port": SERVER_PORT,
        "store_directory": STORE_PATH,
        "filesystem_namespace": FILESYSTEM_NAMESPACE,
        "database_url": f"sqlite:///{STATE_PATH}/conda-store.sqlite",
        "storage_path": f"{STATE_PATH}/storage",
        "watch_paths": [ENVIRONMENTS_PATH],
        # Users read and run environments; only the worker (the image's user) writes the store.
        "default_uid": STORE_UID,
        "default_gid": STORE_GID,
        "default_permissions": "755",
        "metrics_path": METRICS_PATH,
        "authorize_url": f"{public}/hub/api/oauth2/authorize",
        "access_token_url": f"{hub_internal_url}/hub/api/oauth2/token",
        "user_data_url": f"{hub_internal_url}/hub/api/user",
        "client_id": f"service-{HUB_SERVICE_NAME}",
        # Identical to the hub service's oauth_redirect_uri (pitfall 4).
        "oauth_callback_url": oauth_callback_url(config),
        "admin_group": "admin",
        "users": users,
    }


def oauth_callback_url(config: QHubConfig) -> str:
    return f"https://{config.domain}{URL_PREFIX}/oauth_callback/"
