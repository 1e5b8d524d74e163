"""What a platform service needs from JupyterHub, as plain data the hub values are built from.

dask-gateway, conda-store and SSH each describe themselves with a HubIntegration; the
JupyterHub values function folds them into the hub's services, the user pods' environment
and volumes, and the scopes of user servers' tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SecretKeyRef:
    """A key of a Kubernetes Secret in the platform namespace."""

    name: str
    key: str


@dataclass(frozen=True)
class HubService:
    """A JupyterHub service: an API token and optionally a URL the hub proxies /services/<name> to."""

    name: str
    api_token: SecretKeyRef
    """Where the service's API token lives; the hub reads it from there, never from values."""
    url: str | None = None
    """In-cluster URL the hub's proxy sends /services/<name>/ to."""
    oauth_redirect_uri: str | None = None
    """Redirect URI when the service logs users in through the hub (OAuth)."""
    oauth_no_confirm: bool = True
    display: bool = True
    scopes: tuple[str, ...] = ()
    """Hub API scopes the service's token needs (e.g. read:users for conda-store)."""
    api_token_value: Any = None
    """The token itself (a secret Output), for the hub's checksum only: the hub reads the token by
    `api_token`, so a new one must roll the hub (qhub/platform/checksums.py). Never a value."""


@dataclass(frozen=True)
class HubIntegration:
    """One platform service's part of the hub and user-pod configuration."""

    services: tuple[HubService, ...] = ()
    singleuser_env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables of every user server."""
    volumes: tuple[Mapping[str, Any], ...] = ()
    """Pod volumes added to every user server."""
    volume_mounts: tuple[Mapping[str, Any], ...] = ()
    """Mounts of those volumes in the user container."""
    server_token_scopes: tuple[str, ...] = ()
    """Scopes user servers' tokens need, e.g. access:services!service=dask-gateway."""
    user_scopes: tuple[str, ...] = ()
    """Scopes every user holds without their servers' tokens needing them, e.g.
    access:services!service=grafana for a service users log in to through the hub (OAuth)."""
    egress: tuple[Mapping[str, Any], ...] = ()
    """NetworkPolicy egress rules user servers need: z2jh's policy lets them reach the hub, the
    proxy and the internet, but no other pod in the cluster."""
