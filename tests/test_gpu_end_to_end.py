"""GPU workloads end to end (issue 8), for each cloud's GPU fixture.

Each tests/fixtures/configs/<cloud>.happy.gpu.yaml is planned once under the offline engine
(cached in conftest). The spawner configuration is then executed from what that plan carries
(the jupyterhub release's values and the hub ConfigMap's module and data) and the gateway's
cluster options from the dask-gateway release's values, with the real KubeSpawner and
dask-gateway-server (tests/support). GPU pods must select the GPU group by the label the
cloud's ClusterOutputs.node_selectors use, tolerate nvidia.com/gpu=present:NoSchedule and
limit nvidia.com/gpu; everything else stays off the GPU groups.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from traitlets.config import Config

from qhub.cli.main import main
from qhub.clouds.aws.nodegroups import NODE_GROUP_LABEL as AWS_LABEL
from qhub.clouds.azure.aks import GROUP_LABEL as AZURE_LABEL
from qhub.clouds.digitalocean.doks import NODE_POOL_LABEL as DO_LABEL
from qhub.clouds.gcp.nodepools import NODEPOOL_LABEL as GCP_LABEL
from qhub.config import QHubConfig, load_file
from qhub.config.model import PROVIDER_BLOCKS
from qhub.offline.engine import Plan, PlannedResource
from qhub.values.jupyterhub import HUB_CONFIG_KEY, HUB_DATA_KEY, HubFiles
from tests.conftest import FIXTURES, plan_config
from tests.support import hub

CLOUDS = ("aws", "gcp", "do", "azure", "existing")
TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
# The label each cloud module puts into ClusterOutputs.node_selectors ({label: group}).
GROUP_LABELS = {"aws": AWS_LABEL, "gcp": GCP_LABEL, "do": DO_LABEL, "azure": AZURE_LABEL}


def fixture(cloud: str) -> Path:
    return FIXTURES / "configs" / f"{cloud}.happy.gpu.yaml"


def selector(config: QHubConfig, group: str) -> dict[str, str]:
    """ClusterOutputs.selector(group) of this config's cloud."""
    if config.provider.value == "existing":
        chosen = config.cloud.node_selectors[group]  # type: ignore[union-attr]
        return {chosen.key: chosen.value}
    return {GROUP_LABELS[config.provider.value]: group}


def release(plan: Plan, chart: str) -> PlannedResource:
    (found,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.name.endswith(f"-{chart}-release")]
    return found


@pytest.fixture(params=CLOUDS)
def cloud(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def config(cloud: str) -> QHubConfig:
    return load_file(fixture(cloud)).config


@pytest.fixture
def plan(cloud: str) -> Plan:
    return plan_config(fixture(cloud))


def planned_hub(plan: Plan) -> Config:
    """The hub's `c`, from the planned jupyterhub values and the planned ConfigMap they mount."""
    values = release(plan, "jupyterhub").inputs["values"]
    (mounted,) = [v["configMap"]["name"] for v in values["hub"]["extraVolumes"] if "configMap" in v]
    (config_map,) = [r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if r.inputs["metadata"]["name"] == mounted]
    files = HubFiles(
        module=config_map.inputs["data"][HUB_CONFIG_KEY],
        data=base64.b64decode(config_map.inputs["binaryData"][HUB_DATA_KEY]),
        checksum=values["hub"]["annotations"]["qhub.dev/hub-config-sha256"],
    )
    return hub.hub_config(values, files)


@pytest.fixture
def hub_c(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> Config:
    hub.offline_kubeconfig(monkeypatch)
    return planned_hub(plan)


def _gpu_profiles(config: QHubConfig) -> list[Any]:
    return [p for p in config.profiles.jupyterlab if p.gpus]


def _spawn_as_someone_who_sees(c: Config, config: QHubConfig, display_name: str) -> dict[str, Any]:
    """The pod of a spawn of this profile, by the first user the spawn page offers it to."""
    for user in config.security.users:
        for entry in c.KubeSpawner.profile_list(hub.spawner(c, user)):
            if entry["display_name"] == display_name:
                return hub.spawn(c, user, entry["slug"])
    raise AssertionError(f"no user sees profile {display_name!r}")


def test_config_with_gpu_group_and_profiles_plans_whole(cloud: str, config: QHubConfig, plan: Plan) -> None:
    assert config.gpu_node_groups
    assert _gpu_profiles(config) and any(w.worker_gpus for w in config.profiles.dask_worker.values())
    # The platform is in the plan on top of the cloud's GPU group.
    for chart in ("jupyterhub", "dask-gateway"):
        assert release(plan, chart).inputs["values"]
    assert plan.outputs["hub_url"] == f"https://{config.domain}/"


def test_gpu_jupyterlab_pods_land_on_the_gpu_group(config: QHubConfig, hub_c: Config) -> None:
    first = config.gpu_node_groups[0]
    for profile in _gpu_profiles(config):
        pod = _spawn_as_someone_who_sees(hub_c, config, profile.display_name)
        named = profile.kubespawner_override.get("node_selector")
        # Exactly the GPU group's selector: the user group's label is removed, not added to.
        assert pod["spec"]["nodeSelector"] == (named or selector(config, first)), profile.display_name
        assert TOLERATION in pod["spec"]["tolerations"]
        assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == profile.gpus


def test_cpu_jupyterlab_pods_stay_off_gpu_groups(config: QHubConfig, hub_c: Config) -> None:
    profile = next(p for p in config.profiles.jupyterlab if not p.gpus)
    pod = _spawn_as_someone_who_sees(hub_c, config, profile.display_name)
    assert pod["spec"]["nodeSelector"] == selector(config, "user")
    assert TOLERATION not in (pod["spec"].get("tolerations") or [])
    assert "nvidia.com/gpu" not in (pod["spec"]["containers"][0]["resources"].get("limits") or {})


def test_gcp_profiles_pick_among_two_gpu_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a node_selector of its own a GPU profile lands on the first GPU group in config
    order; one that names a group gets that group."""
    config = load_file(fixture("gcp")).config
    assert config.gpu_node_groups == ["gpu-t4", "gpu-l4"]
    hub.offline_kubeconfig(monkeypatch)
    c = planned_hub(plan_config(fixture("gcp")))
    assert _spawn_as_someone_who_sees(c, config, "GPU")["spec"]["nodeSelector"] == {GCP_LABEL: "gpu-t4"}
    assert _spawn_as_someone_who_sees(c, config, "GPU L4")["spec"]["nodeSelector"] == {GCP_LABEL: "gpu-l4"}


@pytest.mark.parametrize("cloud_name", ["do", "azure"])
def test_gpu_instance_types_make_gpu_groups_without_the_flag(cloud_name: str) -> None:
    """DigitalOcean GPU droplets and Azure NC/ND/NV sizes are GPU groups with no `gpu: true`."""
    config = load_file(fixture(cloud_name)).config
    group = config.cloud.node_groups["gpu"]  # type: ignore[union-attr]
    assert not group.gpu and group.is_gpu
    assert config.gpu_node_groups == ["gpu"]


def test_gpu_profiles_without_a_gpu_group_are_refused(cloud: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same config with its GPU groups removed fails validation naming each GPU profile."""
    config = load_file(fixture(cloud)).config
    data = yaml.safe_load(fixture(cloud).read_text())
    block = data[PROVIDER_BLOCKS[config.provider]]
    groups = block["node_selectors" if cloud == "existing" else "node_groups"]
    for name in config.gpu_node_groups:
        del groups[name]
    path = tmp_path / f"{cloud}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", "--config", str(path)]) == 1
    printed = capsys.readouterr()
    text = printed.out + printed.err
    for profile in _gpu_profiles(config):
        assert f"profile {profile.display_name!r} asks for {profile.gpus} GPU(s) but no node group has GPUs" in text
    for name, worker in config.profiles.dask_worker.items():
        if worker.worker_gpus:
            assert f"dask_worker.{name}: asks for {worker.worker_gpus} GPU(s) per worker but no node group has GPUs" in text
