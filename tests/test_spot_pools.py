"""Spot pools get pods, and only pods that may lose their node (issue 15, point 4).

Each cloud marks spot nodes its own way. AKS labels and taints every node of a Spot pool
kubernetes.azure.com/scalesetpriority=spot:NoSchedule and the taint cannot be removed
(https://learn.microsoft.com/azure/aks/spot-node-pool); GKE labels Spot nodes
cloud.google.com/gke-spot=true and taints them only when the pool asks
(https://cloud.google.com/kubernetes-engine/docs/concepts/spot-vms); EKS labels a Spot managed
node group's nodes eks.amazonaws.com/capacityType=SPOT and taints them only with the group's
own taints (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html);
DigitalOcean has no spot droplets. QHub's GKE and EKS spot pools ask for a taint (GKE's
documented cloud.google.com/gke-spot=true, QHub's qhub.dev/spot=true), so that on every cloud
only pods that tolerate losing their node land there, and cluster add-ons stay off. That cloud
behaviour cannot run here, so `node_taints` below reads what the plan asks of each pool and
adds what the cited pages say the cloud adds.

The pods are the real ones: user servers as the hub (tests/support/hub.py: the chart's
jupyterhub_config.py, KubeSpawner) builds them for every profile, dask schedulers and workers
as dask-gateway's controller builds them (tests/support/gateway.py), and every Deployment and
StatefulSet the plan creates or its charts render. tests/fixtures/configs/azure.spot.yaml has a
spot user, worker, GPU and high-memory pool (planned only here); the AWS GPU and GCP happy
fixtures have spot worker groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.cli.main import main
from qhub.config import QHubConfig, load_file
from qhub.config.model import PROVIDER_BLOCKS
from qhub.offline.engine import Plan
from tests.conftest import FIXTURES, plan_of_label
from tests.support.container import plan_objects
from tests.support.gateway import GatewayRun, GatewayRuns
from tests.support.helm import stack_kubernetes_version
from tests.support.hub import HubRun, group_selector, hub_run

SPOT = "fixture-azure.spot"
# Plans with spot groups whose dask pods the gateway builds (AWS and GCP spot workers, Azure's).
GATEWAY_LABELS = [SPOT, "fixture-aws.happy.gpu", "fixture-gcp.happy"]
AKS_SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
# What the plan asks GKE's and EKS's spot pools to taint their nodes with.
PLANNED_SPOT_TAINTS = {"gcp": {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"},
                       "aws": {"key": "qhub.dev/spot", "value": "true", "effect": "NoSchedule"}}
# The effects of GKE's and EKS's APIs, as Kubernetes writes them.
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


def _config(label: str) -> QHubConfig:
    return load_file(plan_of_label(label)[1]).config


def _plan(label: str) -> Plan:
    return plan_of_label(label)[0]()


def node_taints(plan: Plan, config: QHubConfig) -> dict[str, list[dict[str, str]]]:
    """The taints each node group's nodes carry: those the plan gives the pool, and those the
    cloud adds itself (AKS: its spot taint; GKE and EKS add none, see the module docstring)."""
    taints: dict[str, list[dict[str, str]]] = {}
    provider = config.provider.value
    if provider == "azure":
        (cluster,) = plan.of_type("azure-native:containerservice:ManagedCluster")
        pools = [(p["nodeLabels"]["qhub.dev/node-group"], p) for p in cluster.inputs["agentPoolProfiles"]]
        pools += [(r.inputs["nodeLabels"]["qhub.dev/node-group"], r.inputs) for r in plan.of_type("azure-native:containerservice:AgentPool")]
        for group, pool in pools:
            taints[group] = [dict(zip(("key", "value", "effect"), _split_taint(t))) for t in pool.get("nodeTaints") or []]
            if pool.get("scaleSetPriority") == "Spot":
                taints[group].append(dict(AKS_SPOT_TAINT))
    elif provider == "gcp":
        for pool in plan.of_type("gcp:container/nodePool:NodePool"):
            given = pool.inputs["nodeConfig"].get("taints") or []
            taints[pool.inputs["name"]] = [{"key": t["key"], "value": t["value"], "effect": EFFECTS[t["effect"]]} for t in given]
    elif provider == "aws":
        for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
            given = group.inputs.get("taints") or []
            taints[group.inputs["labels"]["qhub.dev/node-group"]] = [
                {"key": t["key"], "value": t["value"], "effect": EFFECTS[t["effect"]]} for t in given]
    else:
        raise AssertionError(f"no spot pools on {provider}")
    return taints


def _split_taint(text: str) -> tuple[str, str, str]:
    """AKS's key=value:Effect form."""
    key_value, _, effect = text.rpartition(":")
    key, _, value = key_value.partition("=")
    return key, value, effect


def spot_groups(plan: Plan, config: QHubConfig) -> set[str]:
    """Groups of spot capacity, as the plan asks the cloud for them."""
    provider = config.provider.value
    if provider == "azure":
        return {r.inputs["nodeLabels"]["qhub.dev/node-group"] for r in plan.of_type("azure-native:containerservice:AgentPool")
                if r.inputs.get("scaleSetPriority") == "Spot"}
    if provider == "gcp":
        return {r.inputs["name"] for r in plan.of_type("gcp:container/nodePool:NodePool") if r.inputs["nodeConfig"].get("spot")}
    return {r.inputs["labels"]["qhub.dev/node-group"] for r in plan.of_type("aws:eks/nodeGroup:NodeGroup")
            if r.inputs.get("capacityType") == "SPOT"}


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, str]) -> bool:
    """Whether a pod with these tolerations may be scheduled on a node with this taint, by the
    rule of the Kubernetes API's Toleration (an empty key with Exists matches every taint; an
    empty effect matches every effect)."""
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint["effect"]:
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint["key"]:
                return True
        elif toleration.get("key") == taint["key"] and toleration.get("value", "") == taint["value"]:
            return True
    return False


def group_of(pod_spec: Mapping[str, Any], config: QHubConfig) -> str:
    """The node group a pod's node selector places it on."""
    selector = pod_spec.get("nodeSelector") or {}
    names = list(config.cloud.node_groups)  # type: ignore[union-attr]
    matches = [g for g in names if group_selector(config, g).items() <= selector.items()]
    assert len(matches) == 1, f"node selector {selector} picks {matches}"
    return matches[0]


def check_placed(pod_spec: Mapping[str, Any], config: QHubConfig, taints: Mapping[str, list[dict[str, str]]], what: str) -> str:
    """The pod tolerates every taint of the group it is placed on; returns the group."""
    group = group_of(pod_spec, config)
    for taint in taints[group]:
        assert tolerates(pod_spec.get("tolerations") or [], taint), f"{what} on {group} does not tolerate {taint}"
    return group


@pytest.fixture(scope="module")
def spot_hub() -> HubRun:
    return hub_run(SPOT)


def test_the_spot_fixture_asks_for_spot_everywhere_but_general() -> None:
    plan, config = _plan(SPOT), _config(SPOT)
    assert spot_groups(plan, config) == {"user", "worker", "highmem", "gpu"}
    assert node_taints(plan, config)["general"] == []


def test_every_user_server_tolerates_the_taints_of_its_group(spot_hub: HubRun) -> None:
    """All four profiles land on spot pools (the user group's, a node_selector's, the GPU
    pool's, one with tolerations of its own) and tolerate what AKS and the program taint them with."""
    config = spot_hub.config
    taints = node_taints(_plan(SPOT), config)
    placed = {}
    for user in config.security.users:
        for profile, result in spot_hub.spawns(user).items():
            assert "pod" in result, f"{user}'s spawn of {profile!r} failed: {result.get('error')}"
            spec = result["pod"]["spec"]
            placed[profile] = check_placed(spec, config, taints, f"{user}'s {profile!r} server")
            if profile == "Own toleration":  # the profile's own toleration is kept
                assert {"key": "example.org/dedicated", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert placed == {"Small": "user", "High memory": "highmem", "Own toleration": "user", "GPU": "gpu"}


@pytest.mark.parametrize("label", GATEWAY_LABELS)
def test_dask_schedulers_and_workers_tolerate_the_taints_of_their_group(gateway_runs: GatewayRuns, label: str) -> None:
    run: GatewayRun = gateway_runs[label]
    plan, config = _plan(label), _config(label)
    taints = node_taints(plan, config)
    assert "worker" in spot_groups(plan, config)
    for made in run.made:
        if "error" in made:
            continue  # the unknown profile, refused
        for role in ("scheduler", "worker"):
            check_placed(made[role]["spec"], config, taints, f"{label}'s dask {role} for {made['request']}")


@pytest.mark.parametrize("label", ["fixture-aws.happy.gpu", "fixture-gcp.happy"])
def test_gke_and_eks_spot_groups_are_tainted_and_no_other_group_is(label: str) -> None:
    """Without a taint, GKE and EKS spot nodes would take any pod without a node selector
    (CoreDNS, the clouds' add-ons), which then die with the node."""
    plan, config = _plan(label), _config(label)
    taints, spot = node_taints(plan, config), spot_groups(plan, config)
    planned = PLANNED_SPOT_TAINTS[config.provider.value]
    assert spot == {"worker"}
    for group, carried in taints.items():
        assert [t for t in carried if t["key"] == planned["key"]] == ([planned] if group in spot else []), group


# z2jh's user placeholders (jupyterhub.warm_servers): stand-ins for user servers, on their group.
PLACEHOLDERS = "user-placeholder"


def test_state_bearing_pods_never_land_on_spot_nodes() -> None:
    """Every Deployment and StatefulSet of the plan (the hub, proxy, conda-store, NFS, SSH, the
    gateway's own pods, ingress, cert-manager) selects the on-demand general group and tolerates
    no spot taint; DaemonSets run on every node by design (the GPU device plugin must). The warm
    servers' placeholders hold room where user servers start, and tolerate what those do."""
    plan, config = _plan(SPOT), _config(SPOT)
    spot = spot_groups(plan, config)
    workloads = [o for o in plan_objects(plan, stack_kubernetes_version(config)) if o.get("kind") in ("Deployment", "StatefulSet")]
    names = {o["metadata"]["name"] for o in workloads}
    assert {"hub", "proxy", "conda-store", "jupyterhub-ssh", "api-dask-gateway", PLACEHOLDERS} <= names, names
    (placeholders,) = [o for o in workloads if o["metadata"]["name"] == PLACEHOLDERS]
    assert check_placed(placeholders["spec"]["template"]["spec"], config, node_taints(plan, config), PLACEHOLDERS) == "user"
    for workload in [o for o in workloads if o is not placeholders]:
        spec = workload["spec"]["template"]["spec"]
        name = f"{workload['kind']} {workload['metadata']['name']}"
        assert group_of(spec, config) == "general", name
        assert "general" not in spot, name
        assert not tolerates(spec.get("tolerations") or [], AKS_SPOT_TAINT), name


def test_daemon_sets_reach_the_spot_nodes_they_serve() -> None:
    """The GPU device plugin tolerates the spot GPU pool's taints (without it no node advertises
    nvidia.com/gpu and GPU pods never schedule), and a DaemonSet placed on a group by node
    selector (an image pre-puller) tolerates that group's."""
    plan, config = _plan(SPOT), _config(SPOT)
    taints = node_taints(plan, config)
    daemon_sets = [o for o in plan_objects(plan, stack_kubernetes_version(config)) if o.get("kind") == "DaemonSet"]
    plugins = [d for d in daemon_sets if d["metadata"]["name"].startswith("nvidia-device-plugin")]
    assert plugins
    for plugin in plugins:
        for taint in taints["gpu"]:
            assert tolerates(plugin["spec"]["template"]["spec"]["tolerations"], taint), (plugin["metadata"]["name"], taint)
    for daemon_set in daemon_sets:
        spec = daemon_set["spec"]["template"]["spec"]
        selector = spec.get("nodeSelector") or {}
        # Only those placed by a group's label (the plugin's MPS daemon selects a device label).
        if any(group_selector(config, g).items() <= selector.items() for g in taints):
            check_placed(spec, config, taints, f"DaemonSet {daemon_set['metadata']['name']}")


def _with_spot(cloud_fixture: str, group: str, tmp_path: Path) -> tuple[Path, str]:
    data = yaml.safe_load((FIXTURES / "configs" / cloud_fixture).read_text())
    block = PROVIDER_BLOCKS[load_file(FIXTURES / "configs" / cloud_fixture).config.provider]
    data[block]["node_groups"][group]["spot"] = True
    path = tmp_path / cloud_fixture
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, block


@pytest.mark.parametrize("fixture", ["aws.happy.yaml", "gcp.happy.yaml", "azure.happy.yaml"])
def test_spot_on_general_is_refused(fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, block = _with_spot(fixture, "general", tmp_path)
    assert main(["validate", "--config", str(path)]) == 1
    printed = capsys.readouterr()
    assert (f"{block}.node_groups.general.spot: spot is true, but general runs the hub, conda-store, the NFS server "
            "and SSH") in printed.out + printed.err


@pytest.mark.parametrize("group", ["general", "user"])
def test_digitalocean_refuses_spot(group: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, block = _with_spot("do.happy.yaml", group, tmp_path)
    assert main(["validate", "--config", str(path)]) == 1
    printed = capsys.readouterr()
    assert f"{block}.node_groups.{group}.spot: spot is true, but DigitalOcean has no spot droplets" in printed.out + printed.err
