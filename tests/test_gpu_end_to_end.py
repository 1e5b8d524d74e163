"""GPU workloads end to end (issue 8), for each cloud's GPU fixture.

Each tests/fixtures/configs/<cloud>.happy.gpu.yaml is planned once under the offline engine
(cached in conftest), and its hub is run as the hub pod runs it (tests/support/hub.py: the
chart's jupyterhub_config.py, real logins, every offered profile spawned up to its pod). GPU
pods must select the GPU group by the label the cloud's ClusterOutputs.node_selectors use,
tolerate nvidia.com/gpu=present:NoSchedule and limit nvidia.com/gpu; CPU pods stay off the GPU
groups (tests/test_hub_config.py). Dask workers: tests/test_gateway_runtime.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.cli.main import main
from qhub.clouds.gcp.nodepools import NODEPOOL_LABEL as GCP_LABEL
from qhub.config import QHubConfig, load_file
from qhub.config.issues import key_path
from qhub.config.model import PROVIDER_BLOCKS
from qhub.offline.engine import Plan, PlannedResource
from tests.conftest import FIXTURES, plan_config
from tests.support.hub import GPU_TOLERATION, HubRun, group_selector, hub_run

CLOUDS = ("aws", "gcp", "do", "azure", "existing")


def fixture(cloud: str) -> Path:
    return FIXTURES / "configs" / f"{cloud}.happy.gpu.yaml"


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


def _hub_label(cloud: str) -> str:
    return f"fixture-{fixture(cloud).stem}"


@pytest.fixture
def hub(cloud: str) -> HubRun:
    """The fixture plan's hub, run (the same run tests/test_hub_config.py asserts on); the next
    clouds' hubs start meanwhile."""
    return hub_run(_hub_label(cloud), upcoming=[_hub_label(c) for c in CLOUDS[CLOUDS.index(cloud) + 1:]])


def _gpu_profiles(config: QHubConfig) -> list[Any]:
    return [p for p in config.profiles.jupyterlab if p.gpus]


def _gpu_pods(hub: HubRun, display_name: str) -> list[dict[str, Any]]:
    """The pods of this profile, one per user it is offered to (at least one)."""
    pods = [hub.pod(user, display_name) for user in hub.config.security.users if display_name in hub.spawns(user)]
    assert pods, f"no user is offered profile {display_name!r}"
    return pods


def test_config_with_gpu_group_and_profiles_plans_whole(cloud: str, config: QHubConfig, plan: Plan) -> None:
    assert config.gpu_node_groups
    assert _gpu_profiles(config) and any(w.worker_gpus for w in config.profiles.dask_worker.values())
    # The platform is in the plan on top of the cloud's GPU group.
    for chart in ("jupyterhub", "dask-gateway"):
        assert release(plan, chart).inputs["values"]
    assert plan.outputs["hub_url"] == f"https://{config.domain}/"


def test_gpu_jupyterlab_pods_land_on_the_gpu_group(config: QHubConfig, hub: HubRun) -> None:
    first = config.gpu_node_groups[0]
    for profile in _gpu_profiles(config):
        named = profile.kubespawner_override.get("node_selector")
        for pod in _gpu_pods(hub, profile.display_name):
            # Exactly the GPU group's selector: the user group's label is removed, not added to.
            assert pod["spec"]["nodeSelector"] == (named or group_selector(config, first)), profile.display_name
            assert GPU_TOLERATION in pod["spec"]["tolerations"]
            (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
            assert notebook["resources"]["limits"]["nvidia.com/gpu"] == profile.gpus


def test_gcp_profiles_pick_among_two_gpu_groups() -> None:
    """Without a node_selector of its own a GPU profile lands on the first GPU group in config
    order; one that names a group gets that group."""
    hub = hub_run("fixture-gcp.happy.gpu")
    assert hub.config.gpu_node_groups == ["gpu-t4", "gpu-l4"]
    assert {p["spec"]["nodeSelector"][GCP_LABEL] for p in _gpu_pods(hub, "GPU")} == {"gpu-t4"}
    assert {p["spec"]["nodeSelector"][GCP_LABEL] for p in _gpu_pods(hub, "GPU L4")} == {"gpu-l4"}


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
            where = key_path(("profiles", "dask_worker", name, "worker_gpus"))
            assert f"{where}: asks for {worker.worker_gpus} GPU(s) per worker but no node group has GPUs" in text
