"""jupyterhub-ssh as data: the server's config file and the command users run.

QHub runs the pinned jupyterhub-ssh image from its own Deployment (qhub/platform/ssh.py)
rather than the chart: the chart takes the host key only as a Helm value and copies all values
into its Secret, so the key would sit in the release's stored values, which DESIGN.md forbids.
"""

from __future__ import annotations

from typing import Any

import yaml

from qhub.config import QHubConfig

SSH_PORT = 22
SSH_CONFIG_DIR = "/etc/jupyterhub-ssh/config"
# The ssh image's user: its Dockerfile (helm-chart/images/jupyterhub-ssh/Dockerfile at e5107a4)
# runs `adduser --uid 1000 jovyan` on python:3.8-slim, which has no group 1000 yet, so the
# user's own group is 1000 too, and switches with `USER 1000`.
IMAGE_UID = 1000
IMAGE_GID = 1000


def hub_url(config: QHubConfig) -> str:
    """The hub's proxy inside the cluster: the ssh server opens terminals of user servers through it."""
    return f"http://proxy-public.{config.namespace}"


def server_config(config: QHubConfig) -> str:
    """values.yaml read by the ssh image's jupyterhub_ssh_config.py (no secret in it)."""
    document: dict[str, Any] = {
        "hubUrl": hub_url(config),
        "ssh": {"config": {"JupyterHubSSH": {"debug": False, "host_key_path": f"{SSH_CONFIG_DIR}/hostKey"}}},
    }
    return yaml.safe_dump(document, sort_keys=True)


def ssh_command(address: str | None) -> str:
    """What a user runs; the password prompt takes a JupyterHub API token."""
    host = address or "<ssh-load-balancer-address>"
    return f"ssh -p {SSH_PORT} <jupyterhub-user>@{host}"
