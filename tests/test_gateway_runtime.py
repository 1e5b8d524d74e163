"""dask-gateway as its pods run it, for every plan (tests/support/gateway.py).

Each plan's gateway container runs the dask_gateway_config.py its rendered ConfigMap holds, with
the environment its rendered Deployment gives it, under dask-gateway-server 2026.3.0; the
controller builds the pods from what the gateway stored. These tests look at what a user of
the deployed platform gets: the hub the gateway authenticates against, the token it presents,
the options Gateway.cluster_options() offers, and the scheduler and worker pods of every
profile and environment, which the cluster's API server must also accept.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dask_gateway_server.traitlets import MemoryLimit

from qhub.clouds.aws.nodegroups import NODE_GROUP_LABEL as AWS_LABEL
from qhub.clouds.azure.aks import GROUP_LABEL as AZURE_LABEL
from qhub.clouds.digitalocean.doks import NODE_POOL_LABEL as DO_LABEL
from qhub.clouds.gcp.nodepools import NODEPOOL_LABEL as GCP_LABEL
from qhub.config import QHubConfig, load_file
from qhub.values.conda_store import environment_prefix
from qhub.values.jupyterhub import HUB_DATA_ENV
from tests.conftest import all_plans, plan_sources
from tests.support.api_schemas import ApiSchemas
from tests.support.container import Container, container_of, find
from tests.support.gateway import UNKNOWN_PROFILE, GatewayRun, GatewayRuns, release_workload, requests_for
from tests.support.helm import stack_kubernetes_version
from tests.support.kubernetes_schema import SchemaError

PLANS = all_plans()
SOURCES = plan_sources()
GPU_PLANS = [label for label in PLANS if label.endswith(".happy.gpu")]
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
# The label each cloud module puts into ClusterOutputs.node_selectors ({label: group}).
GROUP_LABELS = {"aws": AWS_LABEL, "gcp": GCP_LABEL, "do": DO_LABEL, "azure": AZURE_LABEL}
JUPYTERHUB_AUTHENTICATOR = "dask_gateway_server.auth.JupyterHubAuthenticator"
# z2jh mounts its chart values here and its jupyterhub_config.py reads them (z2jh.py get_config).
HUB_VALUES = "/usr/local/etc/jupyterhub/secret/values.yaml"
memory_bytes = MemoryLimit().validate  # the server's own parser of "4G"-style figures


@pytest.fixture
def run(gateway_runs: GatewayRuns, label: str) -> GatewayRun:
    return gateway_runs[label]


@pytest.fixture
def config(label: str) -> QHubConfig:
    return load_file(SOURCES[label]).config


def selector(config: QHubConfig, group: str) -> dict[str, str]:
    """ClusterOutputs.selector(group) of this config's cloud."""
    if config.provider.value == "existing":
        chosen = config.cloud.node_selectors[group]  # type: ignore[union-attr]
        return {chosen.key: chosen.value}
    return {GROUP_LABELS[config.provider.value]: group}


def hub_of(run: GatewayRun) -> tuple[Mapping[str, Any], Container]:
    """z2jh's hub Deployment, and its hub container as the kubelet starts it."""
    (deployment,) = [o for o in run.objects if o.get("kind") == "Deployment"
                     and o["spec"]["template"]["metadata"]["labels"].get("component") == "hub"]
    return deployment, container_of(run.objects, deployment, "hub")


def env_entry(workload: Mapping[str, Any], container: str, name: str) -> Mapping[str, Any]:
    (spec,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == container]
    (entry,) = [e for e in spec.get("env") or [] if e["name"] == name]
    return entry


def profile_requests(config: QHubConfig) -> list[dict[str, str]]:
    return [r for r in requests_for(config) if r.get("profile") in config.profiles.dask_worker]


@pytest.mark.parametrize("label", list(PLANS))
def test_authenticator_finds_the_hub_api(run: GatewayRun) -> None:
    """The gateway checks tokens at the hub's API: a Service of the plan whose port leads to
    the hub container's port, under the base URL the hub serves (its chart values)."""
    assert run.gateway["authenticator"] == JUPYTERHUB_AUTHENTICATOR
    url = urlsplit(run.gateway["api_url"])
    name, _, namespace = (url.hostname or "").partition(".")
    deployment, hub = hub_of(run)
    service = find(run.objects, "Service", name, namespace.split(".")[0] or deployment["metadata"]["namespace"])
    pod = deployment["spec"]["template"]
    assert service["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    ports = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    assert len(ports) == 1, f"{run.gateway['api_url']}: Service {name} has no port {url.port} ({service['spec']['ports']})"
    (port,) = ports
    (hub_spec,) = [c for c in pod["spec"]["containers"] if c["name"] == "hub"]
    target = port.get("targetPort", port["port"])
    assert any(target in (p.get("name"), p["containerPort"]) for p in hub_spec["ports"])
    base_url = yaml.safe_load(hub.text(HUB_VALUES))["hub"]["baseUrl"]
    assert url.path == base_url.rstrip("/") + "/hub/api"


@pytest.mark.parametrize("label", list(PLANS))
def test_token_is_the_one_the_hub_gives_the_service(run: GatewayRun) -> None:
    """The hub registers the gateway's service with the token in the variable its data names
    (qhub_hub.py reads os.environ[service["token_env"]]); that variable and the gateway's
    JUPYTERHUB_API_TOKEN come from the same Secret key, so they are the same token."""
    deployment, hub = hub_of(run)
    data = json.loads(gzip.decompress(hub.files[hub.env[HUB_DATA_ENV]]))
    (service,) = [s for s in data["services"] if s["name"] == run.gateway["service_name"]]
    assert run.gateway["service_access_scopes"] is True
    gateway_ref = env_entry(release_workload(run.objects, "gateway"), "gateway", "JUPYTERHUB_API_TOKEN")["valueFrom"]
    hub_ref = env_entry(deployment, "hub", service["token_env"])["valueFrom"]
    assert gateway_ref["secretKeyRef"] == hub_ref["secretKeyRef"]
    # What each process sees: container.py gives a Secret key's stand-in value by name and key.
    assert run.gateway["api_token"] == hub.env[service["token_env"]]


@pytest.mark.parametrize("label", list(PLANS))
def test_cluster_options_offer_the_profiles_and_environments(run: GatewayRun, config: QHubConfig) -> None:
    profiles = list(config.profiles.dask_worker)
    environments = [env.name for env in config.environments.values()]
    profile = run.option("profile")
    assert profile["spec"]["options"] == profiles and profile["default"] == profiles[0]
    fields = [o["field"] for o in run.cluster_options]
    if environments:
        environment = run.option("conda_environment")
        assert environment["spec"]["options"] == environments and environment["default"] == environments[0]
        assert fields == ["profile", "conda_environment"]
    else:
        assert fields == ["profile"]
    defaults = run.for_request({})["cluster"]["spec"]["options"]
    assert defaults == {"profile": profiles[0], **({"conda_environment": environments[0]} if environments else {})}


@pytest.mark.parametrize("label", list(PLANS))
def test_unknown_profile_is_refused(run: GatewayRun) -> None:
    assert "profile" in run.for_request({"profile": UNKNOWN_PROFILE})["error"]


def _container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    (container,) = pod["spec"]["containers"]
    return container


def _check_resources(container: Mapping[str, Any], cores: float, cores_limit: float, memory: str, memory_limit: str,
                     gpus: int = 0) -> None:
    resources = container["resources"]
    assert resources["requests"]["cpu"] == f"{cores:.3f}" and resources["limits"]["cpu"] == f"{cores_limit:.3f}"
    assert int(resources["requests"]["memory"]) == memory_bytes(None, memory)
    assert int(resources["limits"]["memory"]) == memory_bytes(None, memory_limit)
    assert resources["limits"].get("nvidia.com/gpu") == (gpus or None)


def _check_conda_mount(pod: Mapping[str, Any], run: GatewayRun, environment: str | None, command: str) -> None:
    """The environment's prefix is on the read-only conda-store volume, a claim of the plan."""
    container = _container(pod)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    # The API server refuses duplicate volume names and mount paths (validatePodSpec).
    assert len(volumes) == len(pod["spec"]["volumes"])
    mount_paths = [m["mountPath"] for m in container["volumeMounts"]]
    assert len(set(mount_paths)) == len(mount_paths)
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "conda-store"]
    claim = volumes["conda-store"]["persistentVolumeClaim"]
    assert mount["readOnly"] and claim["readOnly"]
    find(run.objects, "PersistentVolumeClaim", claim["claimName"], pod_namespace(run))
    if environment is None:
        return
    prefix = environment_prefix(environment)
    assert prefix.startswith(mount["mountPath"].rstrip("/") + "/")
    assert container["args"][0] == f"{prefix}/bin/{command}"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CONDA_PREFIX"] == prefix and env["PATH"].startswith(f"{prefix}/bin:")


def pod_namespace(run: GatewayRun) -> str:
    return str(release_workload(run.objects, "gateway")["metadata"]["namespace"])


@pytest.mark.parametrize("label", list(PLANS))
def test_pods_of_every_profile_and_environment(run: GatewayRun, config: QHubConfig) -> None:
    """Image, resources, placement, GPUs and the environment, as the controller builds them."""
    gpu_group = selector(config, config.gpu_node_groups[0]) if config.gpu_node_groups else None
    for request in profile_requests(config):
        made = run.for_request(request)
        profile = config.profiles.dask_worker[request["profile"]]
        environment = request.get("conda_environment")
        scheduler, worker = made["scheduler"], made["worker"]
        image = profile.image or config.default_images.dask_worker
        assert _container(worker)["image"] == image and _container(scheduler)["image"] == image
        _check_resources(_container(worker), profile.worker_cores, profile.worker_cores_limit,
                         profile.worker_memory, profile.worker_memory_limit, profile.worker_gpus)
        # Schedulers need no GPU and stay on the worker group whatever the profile.
        assert scheduler["spec"]["nodeSelector"] == selector(config, "worker")
        assert TOLERATION not in (scheduler["spec"].get("tolerations") or [])
        assert "nvidia.com/gpu" not in _container(scheduler)["resources"]["limits"]
        if profile.worker_gpus:
            assert worker["spec"]["nodeSelector"] == gpu_group
            assert TOLERATION in worker["spec"]["tolerations"]
        else:
            assert worker["spec"]["nodeSelector"] == selector(config, "worker")
            # No GPU toleration; a spot worker group's taint only (tests/test_spot_pools.py
            # checks it is the one its nodes carry).
            tolerations = worker["spec"].get("tolerations") or []
            assert TOLERATION not in tolerations
            groups = getattr(config.cloud, "node_groups", {})  # an existing cluster has none of its own
            assert bool(tolerations) == bool(getattr(groups.get("worker"), "spot", False))
        _check_conda_mount(worker, run, environment, "dask-worker")
        _check_conda_mount(scheduler, run, environment, "dask-scheduler")
        assert made["cluster"]["metadata"]["namespace"] == config.namespace


@pytest.mark.parametrize("label", list(PLANS))
def test_what_the_gateway_and_controller_create_is_accepted(run: GatewayRun, config: QHubConfig) -> None:
    """The DaskCluster, the pods and the Traefik routes fit the stack's Kubernetes version and
    the CRDs the dask-gateway chart ships.

    The scheduler Service is the exception, and upstream's: dask-gateway 2026.3.0's controller
    writes its ports' `target_port` in snake case (controller.py make_service) and sends the dict
    as it is, so the API server drops the field and each port targets its own number, which is
    the same as the container port's. Only that field is let through, and only there.
    """
    api = ApiSchemas(stack_kubernetes_version(config), run.objects)
    refused = []
    for made in (m for m in run.made if "cluster" in m):
        namespace = made["cluster"]["metadata"]["namespace"]
        service = {"apiVersion": "v1", "kind": "Service", **copy.deepcopy(made["service"])}
        for port in service["spec"]["ports"]:
            assert port.pop("target_port") == port["name"]
        for manifest in (made["cluster"], made["scheduler"], made["worker"], service, made["ingressroute"], made["ingressroutetcp"]):
            manifest = {**manifest, "metadata": {**manifest["metadata"], "namespace": namespace}}
            try:
                api.validate(manifest)
            except SchemaError as error:
                refused.append(f"{made['request']} {manifest['kind']}: {error}")
    assert not refused, "\n".join(refused)


@pytest.mark.parametrize("label", GPU_PLANS)
def test_gpu_dask_workers_land_on_the_gpu_group(run: GatewayRun, config: QHubConfig) -> None:
    """Every GPU fixture has GPU worker profiles, whose workers go to the first GPU group."""
    gpu_profiles = [name for name, profile in config.profiles.dask_worker.items() if profile.worker_gpus]
    assert gpu_profiles
    for request in profile_requests(config):
        worker = run.for_request(request)["worker"]
        gpus = config.profiles.dask_worker[request["profile"]].worker_gpus
        on_gpu = worker["spec"]["nodeSelector"] == selector(config, config.gpu_node_groups[0])
        assert on_gpu == bool(gpus), request
        assert (_container(worker)["resources"]["limits"].get("nvidia.com/gpu") == gpus) == bool(gpus)


@pytest.mark.parametrize("label", GPU_PLANS)
def test_cluster_options_name_the_gpu_profiles(run: GatewayRun, config: QHubConfig) -> None:
    field = run.option("profile")
    assert field["spec"]["options"] == list(config.profiles.dask_worker)
    for name, profile in config.profiles.dask_worker.items():
        assert (f"{name}: {profile.worker_gpus} GPU" in field["label"]) == bool(profile.worker_gpus)
