"""GKE under the offline engine: types, counts, parents, providers and GKE's documented rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from qhub.config import load_file
from qhub.config.providers.gcp import GoogleCloudPlatform
from qhub.offline.engine import Plan
from tests.conftest import COMPAT_CONFIGS, FIXTURES, plan_config

HAPPY = FIXTURES / "configs" / "gcp.happy.yaml"
GPU = FIXTURES / "configs" / "gcp.happy.gpu.yaml"
COMPAT = [p for p in COMPAT_CONFIGS if p.stem == "config_gcp"]
CONFIGS = [HAPPY, GPU, *COMPAT]


def block(path: Path) -> GoogleCloudPlatform:
    cloud = load_file(path).config.cloud
    assert isinstance(cloud, GoogleCloudPlatform)
    return cloud


def gcp_resources(plan: Plan) -> list:
    return [r for r in plan.resources if r.type.startswith("gcp:")]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_gcp_resource_uses_the_explicit_provider_under_the_component(path: Path) -> None:
    plan = plan_config(path)
    component = plan.of_type("qhub:gcp:Cluster")[0]
    provider = plan.of_type("pulumi:providers:gcp")[0]
    assert provider.parent == component.urn
    assert provider.inputs["project"] == block(path).project and provider.inputs["region"] == block(path).region
    gcp_urns = {r.urn for r in plan.resources if r.type.startswith("qhub:gcp:")}
    for resource in gcp_resources(plan):
        assert resource.provider and resource.provider.startswith(provider.urn), resource.name
        assert resource.parent in gcp_urns, resource.name
        assert resource.name.startswith(component.name + "-"), resource.name


def test_counts_of_the_happy_stack() -> None:
    plan = plan_config(HAPPY)
    counts = {t: len(plan.of_type(t)) for t in (
        "gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork", "gcp:compute/router:Router",
        "gcp:compute/routerNat:RouterNat", "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool",
        "gcp:serviceaccount/account:Account", "gcp:artifactregistry/repository:Repository",
    )}
    assert counts == {
        "gcp:compute/network:Network": 1, "gcp:compute/subnetwork:Subnetwork": 1, "gcp:compute/router:Router": 1,
        "gcp:compute/routerNat:RouterNat": 1, "gcp:container/cluster:Cluster": 1, "gcp:container/nodePool:NodePool": 3,
        # The nodes' account, and CI's for pushing images (the fixture names ci_cd.repository).
        "gcp:serviceaccount/account:Account": 2, "gcp:artifactregistry/repository:Repository": 1,
    }


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_default_pool_removed_and_every_pool_autoscales_within_the_groups_bounds(path: Path) -> None:
    plan = plan_config(path)
    cluster = plan.of_type("gcp:container/cluster:Cluster")[0]
    assert cluster.inputs["removeDefaultNodePool"] is True
    groups = block(path).node_groups
    pools = {p.inputs["name"]: p for p in plan.of_type("gcp:container/nodePool:NodePool")}
    assert set(pools) == set(groups)
    for name, pool in pools.items():
        scaling = pool.inputs["autoscaling"]
        assert (scaling["minNodeCount"], scaling["maxNodeCount"]) == (groups[name].min_nodes, groups[name].max_nodes)
        assert pool.inputs["initialNodeCount"] == groups[name].min_nodes
        assert {"initialNodeCount", "nodeCount"} <= set(pool.ignore_changes)
        assert pool.inputs["management"] == {"autoRepair": True, "autoUpgrade": False}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_versions_are_the_configs(path: Path) -> None:
    plan = plan_config(path)
    version = block(path).kubernetes_version
    cluster = plan.of_type("gcp:container/cluster:Cluster")[0]
    # A minor ("1.35") resolves to its newest GKE build; a full version is used as given.
    assert cluster.inputs["minMasterVersion"] == version or cluster.inputs["minMasterVersion"].startswith(version + ".")
    assert cluster.inputs["releaseChannel"] == {"channel": "UNSPECIFIED"}
    for pool in plan.of_type("gcp:container/nodePool:NodePool"):
        assert pool.inputs["version"] == version or pool.inputs["version"].startswith(version + ".")


def test_compat_config_keeps_its_exact_old_version() -> None:
    if not COMPAT:
        pytest.skip("no shared compat configs")
    cluster = plan_config(COMPAT[0]).of_type("gcp:container/cluster:Cluster")[0]
    assert cluster.inputs["minMasterVersion"] == "1.14.10-gke.31"
    # A single availability zone makes a zonal cluster.
    assert cluster.inputs["location"] == "us-central1-c"


def test_network_private_nodes_and_workload_identity() -> None:
    plan = plan_config(HAPPY)
    cluster = plan.of_type("gcp:container/cluster:Cluster")[0]
    subnet = plan.of_type("gcp:compute/subnetwork:Subnetwork")[0]
    assert plan.of_type("gcp:compute/network:Network")[0].inputs["autoCreateSubnetworks"] is False
    assert {r["rangeName"] for r in subnet.inputs["secondaryIpRanges"]} == {"pods", "services"}
    assert cluster.inputs["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
    assert cluster.inputs["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster.inputs["workloadIdentityConfig"] == {"workloadPool": "lab-gcp-project.svc.id.goog"}
    assert cluster.inputs["location"] == "us-central1" and cluster.inputs["nodeLocations"] == ["us-central1-a"]
    nat = plan.of_type("gcp:compute/routerNat:RouterNat")[0]
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"


def test_nodes_run_as_a_least_privilege_account_that_reads_the_protected_registry() -> None:
    plan = plan_config(HAPPY)
    account = plan.named("lab-gcp-dev-nodes-account")
    roles = {m.inputs["role"] for m in plan.of_type("gcp:projects/iAMMember:IAMMember")}
    assert roles == {"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
                     "roles/stackdriver.resourceMetadata.writer"}
    email = f"{account.inputs['accountId']}@lab-gcp-project.iam.gserviceaccount.com"
    for pool in plan.of_type("gcp:container/nodePool:NodePool"):
        assert pool.inputs["nodeConfig"]["serviceAccount"] == email
        assert pool.inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    repository = plan.of_type("gcp:artifactregistry/repository:Repository")[0]
    assert repository.protect and repository.inputs["format"] == "DOCKER"
    (read,) = [m for m in plan.of_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
               if m.inputs["member"] == f"serviceAccount:{email}"]  # the other member is CI's writer
    assert read.inputs["role"] == "roles/artifactregistry.reader"
    assert plan.outputs["registry_url"] == "us-central1-docker.pkg.dev/lab-gcp-project/lab-gcp-dev-registry"


def test_gpu_pools_get_accelerators_with_managed_drivers_and_the_taint() -> None:
    plan = plan_config(GPU)
    pools = {p.inputs["name"]: p.inputs["nodeConfig"] for p in plan.of_type("gcp:container/nodePool:NodePool")}
    taint = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert pools["gpu-t4"]["guestAccelerators"] == [
        {"type": "nvidia-tesla-t4", "count": 1, "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]
    assert pools["gpu-l4"]["guestAccelerators"][0]["type"] == "nvidia-l4"
    assert pools["gpu-t4"]["taints"] == taint and pools["gpu-l4"]["taints"] == taint
    assert "taints" not in pools["user"] and "guestAccelerators" not in pools["user"]
    # Two zones: a regional cluster with its nodes there (GKE counts min/max per zone).
    cluster = plan.of_type("gcp:container/cluster:Cluster")[0]
    assert cluster.inputs["nodeLocations"] == ["us-central1-a", "us-central1-c"]
    # GKE runs its own device plugin; nothing is installed by Helm.
    assert not [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if "nvidia" in r.name]


def test_kubeconfig_uses_the_gke_auth_plugin_and_is_secret() -> None:
    import json

    from qhub.clouds.common import exec_kubeconfig

    document = json.loads(exec_kubeconfig("c", "https://34.1.2.3", "Q0E=", {"command": "gke-gcloud-auth-plugin"}))
    assert document["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    plan = plan_config(HAPPY)
    assert plan.outputs["kubeconfig"] == "[secret]"
    k8s = plan.of_type("pulumi:providers:kubernetes")[0]
    assert k8s.inputs["kubeconfig"] == "[secret]"


def test_gpu_flag_without_accelerators_is_a_config_error(tmp_path: Path) -> None:
    from qhub.config import ConfigError

    text = GPU.read_text().replace(", guest_accelerators: [{type: nvidia-tesla-t4, count: 1}]", "")
    path = tmp_path / "gcp.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="guest_accelerators"):
        load_file(path)
