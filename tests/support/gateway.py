"""The gateway's cluster options, run the way the gateway runs them, with the real dask-gateway-server.

The chart pastes `gateway.extraConfig` into its config file where `c` is the traitlets config;
`gateway_backend` executes the same sources with a fresh Config and the environment the chart's
`gateway.env` sets, from the `gateway` section of the chart values (rendered by a test, or taken
from a plan); a backend then resolves options as for a request.
"""

from __future__ import annotations

from typing import Any

import pytest
from dask_gateway_server.backends.base import Backend
from dask_gateway_server.backends.kubernetes.backend import KubeClusterConfig
from dask_gateway_server.models import User
from dask_gateway_server.options import Options
from traitlets.config import Config

from tests.support.loop import run


def gateway_backend(gateway: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Backend:
    """A backend configured by the chart values' `gateway.env` and `gateway.extraConfig`."""
    for item in gateway["env"]:
        monkeypatch.setenv(item["name"], item["value"])
    c = Config()
    for source in gateway["extraConfig"].values():
        exec(compile(source, "dask_gateway_config.py", "exec"), {"c": c})  # noqa: S102 - the gateway does this
    return Backend(config=c, cluster_config_class=KubeClusterConfig)


def resolve(backend: Backend, request: dict[str, Any], user: User | None = None) -> KubeClusterConfig:
    """The cluster config a request for these options gets."""
    _, config = run(backend.process_cluster_options(user or User("lin-wei", groups=["users"]), request))
    return config


def cluster_options(backend: Backend) -> Options:
    """The options a user sees in Gateway.cluster_options()."""
    return run(backend.get_cluster_options(User("lin-wei")))
