"""An existing cluster under the offline engine: no cloud resources, only its Kubernetes context."""

from __future__ import annotations

from tests.conftest import FIXTURES, plan_config

HAPPY = FIXTURES / "configs" / "existing.happy.yaml"
GPU = FIXTURES / "configs" / "existing.happy.gpu.yaml"
CLOUD_PACKAGES = ("aws:", "gcp:", "digitalocean:", "azure-native:")


def test_no_cloud_resources_and_the_provider_uses_the_context() -> None:
    plan = plan_config(HAPPY)
    assert not [r for r in plan.resources if r.type.startswith(CLOUD_PACKAGES)]
    component = plan.of_type("qhub:existing:Cluster")[0]
    provider = plan.of_type("pulumi:providers:kubernetes")
    assert len(provider) == 1 and provider[0].parent == component.urn
    assert provider[0].inputs["context"] == "lab-cluster"


def test_platform_uses_the_configured_selectors_and_storage_class() -> None:
    plan = plan_config(HAPPY)
    claim = plan.named("lab-existing-dev-storage-nfs-disk")
    assert claim.inputs["spec"]["storageClassName"] == "fast-ssd"
    server = plan.named("lab-existing-dev-storage-nfs-server")
    assert server.inputs["spec"]["template"]["spec"]["nodeSelector"] == {"node-role.example.org/group": "general"}


def test_gpu_group_is_listed_for_the_platform() -> None:
    from qhub.config import load_file

    config = load_file(GPU).config
    assert config.gpu_node_groups == ["gpu"]
    assert plan_config(GPU).of_type("qhub:existing:Cluster")
