"""AKS under the offline engine: types, counts, parents, providers and AKS's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from qhub.clouds.azure.aks import pool_names
from qhub.clouds.azure.network import node_subnet
from qhub.clouds.azure.registry import registry_name
from qhub.config import load_file
from qhub.config.providers.azure import Azure
from tests.conftest import FIXTURES, plan_config

HAPPY = FIXTURES / "configs" / "azure.happy.yaml"
GPU = FIXTURES / "configs" / "azure.happy.gpu.yaml"
CONFIGS = [HAPPY, GPU]
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"


def block(path: Path) -> Azure:
    cloud = load_file(path).config.cloud
    assert isinstance(cloud, Azure)
    return cloud


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_azure_resource_uses_the_explicit_provider_under_the_component(path: Path) -> None:
    plan = plan_config(path)
    component = plan.of_type("qhub:azure:Cluster")[0]
    provider = plan.of_type("pulumi:providers:azure-native")[0]
    assert provider.parent == component.urn and provider.inputs["location"] == block(path).region
    components = {r.urn for r in plan.resources if r.type.startswith("qhub:azure:")}
    for resource in [r for r in plan.resources if r.type.startswith("azure-native:")]:
        assert resource.provider and resource.provider.startswith(provider.urn), resource.name
        assert resource.parent in components, resource.name
        assert resource.name.startswith(component.name + "-"), resource.name


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_exactly_one_system_pool_and_user_pools_for_the_rest(path: Path) -> None:
    plan = plan_config(path)
    groups = block(path).node_groups
    cluster = plan.of_type(CLUSTER)
    assert len(cluster) == 1
    inline = cluster[0].inputs["agentPoolProfiles"]
    pools = plan.of_type(POOL)
    modes = [p["mode"] for p in inline] + [p.inputs["mode"] for p in pools]
    assert modes.count("System") == 1 and inline[0]["name"] == "general" and inline[0]["mode"] == "System"
    assert len(pools) == len(groups) - 1 and all(p.inputs["mode"] == "User" for p in pools)
    labelled = {p.inputs["nodeLabels"]["qhub.dev/node-group"]: p.inputs for p in pools}
    labelled["general"] = inline[0]
    assert set(labelled) == set(groups)
    for name, pool in labelled.items():
        assert pool["enableAutoScaling"] is True
        assert pool["maxCount"] == groups[name].max_nodes
        assert pool["minCount"] == (max(groups[name].min_nodes, 1) if name == "general" else groups[name].min_nodes)
        assert len(pool.get("agentPoolName", pool.get("name"))) <= 12
    for pool in pools:
        assert pool.ignore_changes == ["count"]
        assert pool.inputs["resourceName"] == "lab-azure-dev"
    assert cluster[0].ignore_changes == ["agentPoolProfiles[0].count"]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_versions_are_the_configs(path: Path) -> None:
    plan = plan_config(path)
    version = block(path).kubernetes_version
    cluster = plan.of_type(CLUSTER)[0].inputs
    assert cluster["kubernetesVersion"] == version
    assert {p["orchestratorVersion"] for p in cluster["agentPoolProfiles"]} == {version}
    assert {p.inputs["orchestratorVersion"] for p in plan.of_type(POOL)} == {version}
    # A minor gets its patches; nothing moves it to another minor.
    assert cluster["autoUpgradeProfile"]["upgradeChannel"] == "patch"


def test_cluster_network_identity_and_registry() -> None:
    plan = plan_config(HAPPY)
    cluster = plan.of_type(CLUSTER)[0].inputs
    subnet = plan.of_type("azure-native:network:Subnet")[0]
    assert subnet.inputs["addressPrefix"] == "10.40.0.0/20"
    assert cluster["identity"] == {"type": "SystemAssigned"}
    assert cluster["networkProfile"]["networkPluginMode"] == "overlay"
    assert cluster["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    registry = plan.of_type("azure-native:containerregistry:Registry")[0]
    assert registry.protect and registry.inputs["adminUserEnabled"] is False
    assert registry.inputs["registryName"] == "labazuredevq7x2"
    assignments = {r.name: r.inputs for r in plan.of_type("azure-native:authorization:RoleAssignment")}
    pull = assignments["lab-azure-dev-registry-kubelet-pull"]
    assert pull["roleDefinitionId"].endswith("/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d")
    assert pull["scope"].endswith("/registries/labazuredevq7x2")
    assert assignments["lab-azure-dev-subnet-access"]["scope"].endswith("/subnets/nodes")
    assert plan.outputs["registry_url"] == "labazuredevq7x2.azurecr.io"
    assert plan.outputs["kubeconfig"] == "[secret]"
    spot = next(p for p in plan.of_type(POOL) if p.inputs["agentPoolName"] == "workerhighme")
    assert spot.inputs["scaleSetPriority"] == "Spot"


def test_gpu_pool_has_taint_label_driver_and_the_device_plugin() -> None:
    plan = plan_config(GPU)
    gpu = next(p for p in plan.of_type(POOL) if p.inputs["agentPoolName"] == "gpu").inputs
    assert gpu["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert gpu["nodeLabels"]["nvidia.com/gpu.present"] == "true"
    assert gpu["gpuProfile"] == {"driver": "Install"}
    plugin = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.name.endswith("nvidia-device-plugin")]
    assert len(plugin) == 1 and plugin[0].inputs["version"] == "0.20.0"
    assert plugin[0].provider and plugin[0].provider.startswith(plan.of_type("pulumi:providers:kubernetes")[0].urn)


def test_names_follow_azures_rules() -> None:
    assert pool_names(["general", "worker-high-memory", "worker-high-memory-2"]) == {
        "general": "general", "worker-high-memory": "workerhighme", "worker-high-memory-2": "workerhighm2"}
    assert registry_name("lab-azure-dev", None) == "labazuredev"
    assert len(registry_name("a" * 60, "x")) == 50
    assert node_subnet("10.40.0.0/16") == "10.40.0.0/20" and node_subnet("10.40.0.0/22") == "10.40.0.0/22"
