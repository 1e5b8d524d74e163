"""DOKS under the offline engine: types, counts, parents, providers and DOKS's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from qhub.clouds.digitalocean.doks import version_prefix
from qhub.config import load_file
from qhub.config.providers.digitalocean import DigitalOcean
from tests.conftest import COMPAT_CONFIGS, FIXTURES, plan_config

HAPPY = FIXTURES / "configs" / "do.happy.yaml"
GPU = FIXTURES / "configs" / "do.happy.gpu.yaml"
COMPAT = [p for p in COMPAT_CONFIGS if p.stem.startswith("config_do")]
CONFIGS = [HAPPY, GPU, *COMPAT]
CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster"
POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool"


def block(path: Path) -> DigitalOcean:
    cloud = load_file(path).config.cloud
    assert isinstance(cloud, DigitalOcean)
    return cloud


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_do_resource_uses_the_explicit_provider_under_the_component(path: Path) -> None:
    plan = plan_config(path)
    component = plan.of_type("qhub:digitalocean:Cluster")[0]
    provider = plan.of_type("pulumi:providers:digitalocean")[0]
    assert provider.parent == component.urn
    for resource in [r for r in plan.resources if r.type.startswith("digitalocean:")]:
        assert resource.provider and resource.provider.startswith(provider.urn), resource.name
        assert resource.parent == component.urn, resource.name
        assert resource.name.startswith(component.name + "-"), resource.name


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_general_is_the_default_pool_and_every_pool_autoscales_within_min_max(path: Path) -> None:
    plan = plan_config(path)
    groups = block(path).node_groups
    cluster = plan.of_type(CLUSTER)
    assert len(cluster) == 1
    default = cluster[0].inputs["nodePool"]
    pools = {p.inputs["name"]: p.inputs for p in plan.of_type(POOL)}
    assert default["name"] == "general" and set(pools) == set(groups) - {"general"}
    for name, pool in [("general", default), *pools.items()]:
        assert pool["autoScale"] is True, name
        assert pool["minNodes"] <= pool["maxNodes"], name
        assert pool["maxNodes"] == groups[name].max_nodes, name
        # DOKS keeps one node in the default pool; every other pool follows the config.
        assert pool["minNodes"] == (max(groups[name].min_nodes, 1) if name == "general" else groups[name].min_nodes)
    for pool in plan.of_type(POOL):
        assert "nodeCount" in pool.ignore_changes


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_version_is_the_configs(path: Path) -> None:
    version = block(path).kubernetes_version
    slug = plan_config(path).of_type(CLUSTER)[0].inputs["version"]
    prefix = version_prefix(version)
    assert slug == version if prefix is None else slug.startswith(prefix)
    assert slug.count("-do.") == 1


def test_version_prefixes() -> None:
    assert version_prefix("1.35") == "1.35."
    assert version_prefix("1.35.1") == "1.35.1-"
    assert version_prefix("1.16.6-do.2") is None


def test_compat_config_keeps_its_exact_old_slug() -> None:
    if not COMPAT:
        pytest.skip("no shared compat configs")
    plan = plan_config(next(p for p in COMPAT if p.stem == "config_do"))
    assert plan.of_type(CLUSTER)[0].inputs["version"] == "1.16.6-do.2"
    assert not plan.of_type("digitalocean:index/containerRegistry:ContainerRegistry")


def test_vpc_registry_and_kubeconfig() -> None:
    plan = plan_config(HAPPY)
    cluster = plan.of_type(CLUSTER)[0]
    vpc = plan.of_type("digitalocean:index/vpc:Vpc")[0]
    assert vpc.inputs["region"] == cluster.inputs["region"] == "fra1"
    assert cluster.inputs["vpcUuid"] and cluster.inputs["autoUpgrade"] is False
    registry = plan.of_type("digitalocean:index/containerRegistry:ContainerRegistry")
    assert len(registry) == 1 and registry[0].protect
    assert cluster.inputs["registryIntegration"] is True
    assert plan.outputs["registry_url"] == "registry.digitalocean.com/lab-do"
    assert plan.outputs["kubeconfig"] == "[secret]"
    assert plan.of_type("pulumi:providers:kubernetes")[0].inputs["kubeconfig"] == "[secret]"


def test_gpu_pool_is_tainted_and_uses_the_doks_device_plugin() -> None:
    plan = plan_config(GPU)
    pools = {p.inputs["name"]: p.inputs for p in plan.of_type(POOL)}
    assert pools["gpu"]["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert "taints" not in pools["user"] or not pools["user"]["taints"]
    assert plan.of_type(CLUSTER)[0].inputs["nvidiaGpuDevicePlugin"] == {"enabled": True}
    assert not [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if "nvidia" in r.name]


def test_kubernetes_provider_uses_a_kubeconfig_read_at_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's kubeconfig is the one `get_kubernetes_cluster` returns on this run, never
    the cluster resource's stored kube_configs (whose token DigitalOcean expires after 7 days)."""
    from qhub.offline import engine
    from qhub.offline.mock_outputs import digitalocean as do_mocks

    stale, fresh = "dop_v1_stored_at_creation", "dop_v1_read_on_this_run"
    cluster_outputs, cluster_data = do_mocks._cluster, do_mocks._cluster_data
    monkeypatch.setitem(do_mocks.RESOURCES, CLUSTER, lambda name, inputs: _with_token(cluster_outputs(name, inputs), stale))
    calls: list[dict] = []

    def read(args: dict) -> dict:
        calls.append(args)
        return _with_token(cluster_data(args), fresh)

    monkeypatch.setitem(do_mocks.CALLS, "digitalocean:index/getKubernetesCluster:getKubernetesCluster", read)
    # Show secret values for this plan only: the kubeconfig is a Pulumi secret.
    hidden = engine.plain
    monkeypatch.setattr(engine, "plain", lambda value: hidden(value["value"]) if isinstance(value, dict)
                        and value.get(engine._SIG) == engine._SECRET_SIG else hidden(value))
    plan = engine.plan_program(HAPPY, "dev", "do")
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert fresh in provider.inputs["kubeconfig"] and stale not in provider.inputs["kubeconfig"]
    (cluster,) = plan.of_type(CLUSTER)
    assert [c.get("name") for c in calls] == [cluster.inputs["name"]]
    assert calls[0]["kubeconfigExpireSeconds"] == 24 * 3600


def _with_token(outputs: dict, token: str) -> dict:
    config = outputs["kubeConfigs"][0]
    config["rawConfig"] = config["rawConfig"].replace(config["token"], token)
    config["token"] = token
    return outputs
