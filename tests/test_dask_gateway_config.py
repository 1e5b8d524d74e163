"""The gateway's cluster options, run the way the gateway runs them, with the real dask-gateway-server.

The chart pastes `gateway.extraConfig` into its config file where `c` is the traitlets config;
here the same source is executed with a fresh Config and the settings in the environment
variable the chart's `gateway.env` sets, then a backend resolves options as for a request.
"""

from __future__ import annotations

import json

import pytest
from dask_gateway_server.backends.base import Backend
from dask_gateway_server.backends.kubernetes.backend import KubeClusterConfig
from dask_gateway_server.models import User

from qhub.config import load_file
from qhub.values import dask_gateway as values
from qhub.values.conda_store import CondaMount, environment_prefix
from tests.conftest import ROOT
from tests.support.gateway import cluster_options, gateway_backend, resolve

GIB = 2**30


def _settings(config, gpu: bool = False):
    return values.gateway_settings(
        config, worker_selector={"eks.amazonaws.com/nodegroup": "worker"},
        gpu_selector={"eks.amazonaws.com/nodegroup": "gpu"} if gpu else None, conda=CondaMount(),
    )


def _backend(settings: dict, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Execute the chart's extraConfig source as the gateway's config file does."""
    rendered = values.dask_gateway_values(
        _staging(), settings=settings, general_selector={"g": "general"},
        token=values.SecretKeyRef("s", "k"), hub_api_url="http://hub:8081/hub/api",
    )
    return gateway_backend(rendered["gateway"], monkeypatch)


def _staging():
    return load_file(ROOT / "stacks" / "staging.yaml").config


def _resolve(backend: Backend, request: dict) -> KubeClusterConfig:
    return resolve(backend, request, User("lin-wei", groups=["users", "climate"]))


def test_profiles_map_to_cores_memory_and_image(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _staging()
    backend = _backend(_settings(config), monkeypatch)
    for name, profile in config.profiles.dask_worker.items():
        resolved = _resolve(backend, {"profile": name})
        assert resolved.worker_cores == profile.worker_cores
        assert resolved.worker_cores_limit == profile.worker_cores_limit
        # The server reads "3G" as 3 * 2**30 bytes.
        assert resolved.worker_memory == int(profile.worker_memory[:-1]) * GIB
        assert resolved.worker_memory_limit == int(profile.worker_memory_limit[:-1]) * GIB
        assert resolved.image == (profile.image or config.default_images.dask_worker)
        assert resolved.worker_extra_pod_config["nodeSelector"] == {"eks.amazonaws.com/nodegroup": "worker"}
        assert resolved.scheduler_extra_pod_config["nodeSelector"] == {"eks.amazonaws.com/nodegroup": "worker"}


def test_medium_worker_exact_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = _resolve(_backend(_settings(_staging()), monkeypatch), {"profile": "Medium Worker"})
    assert (resolved.worker_cores, resolved.worker_cores_limit) == (1.5, 2)
    assert (resolved.worker_memory, resolved.worker_memory_limit) == (6 * GIB, 8 * GIB)


def test_environments_reach_the_cluster_options(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _staging()
    backend = _backend(_settings(config), monkeypatch)
    options = cluster_options(backend)
    spec = {field.field: field for field in options.fields}
    env_names = [env.name for env in config.environments.values()]
    assert list(spec["conda_environment"].options) == env_names
    assert list(spec["profile"].options) == list(config.profiles.dask_worker)
    for env in env_names:
        resolved = _resolve(backend, {"conda_environment": env})
        prefix = environment_prefix(env)
        assert resolved.worker_cmd == [f"{prefix}/bin/dask-worker"]
        assert resolved.scheduler_cmd == [f"{prefix}/bin/dask-scheduler"]
        assert resolved.environment["CONDA_PREFIX"] == prefix
        mounts = resolved.worker_extra_container_config["volumeMounts"]
        assert mounts == [{"name": "conda-store", "mountPath": "/home/conda", "readOnly": True}]
        assert resolved.worker_extra_pod_config["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True


def test_idle_timeout_and_max_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _staging()
    resolved = _resolve(_backend(_settings(config), monkeypatch), {})
    assert resolved.idle_timeout == config.dask_gateway.idle_timeout_minutes * 60 > 0
    assert resolved.cluster_max_workers == config.dask_gateway.cluster_max_workers


def test_gpu_profile_goes_to_gpu_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _staging()
    settings = _settings(config, gpu=True)
    settings["profiles"]["GPU Worker"] = dict(settings["profiles"]["Small Worker"], worker_gpus=1)
    resolved = _resolve(_backend(settings, monkeypatch), {"profile": "GPU Worker"})
    assert resolved.worker_extra_pod_config["nodeSelector"] == {"eks.amazonaws.com/nodegroup": "gpu"}
    assert resolved.worker_extra_pod_config["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert resolved.worker_extra_container_config["resources"]["limits"] == {"nvidia.com/gpu": 1}


def test_unknown_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _backend(_settings(_staging()), monkeypatch)
    with pytest.raises(Exception, match="profile"):
        _resolve(backend, {"profile": "Huge Worker"})


def test_settings_are_plain_json() -> None:
    settings = _settings(_staging())
    assert json.loads(json.dumps(settings)) == settings
