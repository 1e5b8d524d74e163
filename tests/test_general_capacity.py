"""The platform fits its general node group: the stack `qhub init` writes on each cloud (monitoring
on), planned, its general-group pods' CPU and memory requests summed, against what that cloud's
general instance can allocate.

The sum `qhub plan` prints (qhub/plan_footprint.py, from the plan alone) is checked here
against the same pods as the real charts render them (tests/support/helm.py): every
Deployment, StatefulSet and DaemonSet placed on the general group, Prometheus' pod from the
rendered Prometheus resource and the config-reloader requests the rendered operator passes on,
QHub's own workloads from their planned inputs. The two exporters' charts cannot be rendered
here (tests/support/helm.py, UNRENDERED_CHARTS): their pods are read from their values on both
sides.

What this does not count, because QHub does not deploy it: the cloud's own pods on the node
(CNI, kube-proxy, CoreDNS, CSI and metrics agents). SYSTEM_RESERVE stands for them, an estimate.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.init_templates import MACHINES, PROVIDER_BLOCKS, starter_config
from qhub.plan_footprint import PodRequests, cpu_cores, footprint, general_selector, memory_bytes, pod_requests
from qhub.values import monitoring as values
from tests.conftest import plan_config
from tests.support.helm import objects_of, render_plan, unrendered_releases

GiB, MiB = Decimal(2**30), Decimal(2**20)
# Allocatable CPU (cores) and memory (bytes) of the general instance `qhub init` writes per cloud.
ALLOCATABLE = {
    # EKS AMI: kube-reserved CPU 6% of the first core, 1% of the second, 0.5% of the third and
    # fourth (80m on 4 vCPU); memory 255Mi + 11Mi per pod (58 pods on m6i.xlarge: 4 ENIs of 15
    # addresses) and 100Mi eviction, from the memory the node reports: 91.3% of the nominal, as
    # m5.large's figures in aws/karpenter-provider-aws#2158 show (6803Mi allocatable of 8 GiB
    # with 29 pods). An estimate for m6i.xlarge: 4 vCPU, 16 GiB.
    "m6i.xlarge": (Decimal("3.92"), (16 * 1024 * Decimal("0.913") - (255 + 11 * 58) - 100) * MiB),
    # GKE (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes): CPU 6% of the first
    # core, 1% of the second, 0.5% of the third and fourth; memory 25% of the first 4 GiB, 20% of
    # the next 4, 10% of the next 8, and 100Mi for eviction. e2-standard-4: 4 vCPU, 16 GiB.
    "e2-standard-4": (Decimal("3.92"), 16 * GiB - (Decimal("0.25") * 4 + Decimal("0.2") * 4 + Decimal("0.1") * 8) * GiB - 100 * MiB),
    # AKS 1.29+ (learn.microsoft.com/azure/aks/node-resource-reservations): 140m CPU on 4 cores;
    # memory the lesser of 20MB per pod + 50MB (250 pods with Azure CNI overlay: 5050MB) and 25%
    # of the VM's, plus 100Mi eviction. Standard_D4s_v5: 4 vCPU, 16 GiB.
    "Standard_D4s_v5": (Decimal("3.86"), 16 * GiB - 4 * GiB - 100 * MiB),
    # DigitalOcean publishes a table of allocatable memory per node size (about 6 GiB of an
    # 8 GB node, a quarter kept); it could not be read again offline, so 12 GiB of 16 GB is taken,
    # and GKE's CPU reservation (an estimate: DigitalOcean publishes none). g-4vcpu-16gb: 4 vCPU, 16 GB.
    "g-4vcpu-16gb": (Decimal("3.92"), 12 * GiB),
}
# The cloud's own pods on the general node (see the module's docstring): an estimate.
SYSTEM_RESERVE = (Decimal("0.5"), 1 * GiB)
CLOUDS = ("aws", "gcp", "do", "azure")


@pytest.fixture(scope="module")
def starter_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("starters")
    plans = {}
    for cloud in CLOUDS:
        path = Path(folder) / f"{cloud}.yaml"
        path.write_text(yaml.safe_dump(starter_config(cloud, "lab", "lab.example.org"), sort_keys=False))
        plans[cloud] = plan_config(path)
    return plans


def _rendered_workloads(plan: Any) -> list[PodRequests]:
    """The general group's workloads as the charts render them, and QHub's own as planned."""
    general = general_selector(plan.to_json())
    found: list[PodRequests] = []

    def add(name: str, kind: str, spec: dict[str, Any], replicas: int) -> None:
        selector = spec.get("nodeSelector") or {}
        if all(general[k] == v for k, v in selector.items() if k in general):
            found.append(PodRequests(name, 1 if kind == "DaemonSet" else replicas, *pod_requests(spec)))

    for resource in plan.resources:
        if resource.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet") and not resource.read:
            add(resource.inputs["metadata"]["name"], resource.type.rsplit(":", 1)[1], resource.inputs["spec"]["template"]["spec"],
                int(resource.inputs["spec"].get("replicas", 1)))
    for release, objects in render_plan(plan, "1.35").items():
        for o in objects:
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
                add(o["metadata"]["name"], o["kind"], o["spec"]["template"]["spec"], int(o["spec"].get("replicas", 1)))
        for prometheus in objects_of(objects, "Prometheus"):
            (operator,) = objects_of(objects, "Deployment")
            args = dict(a.removeprefix("--").split("=", 1) for a in operator["spec"]["template"]["spec"]["containers"][0]["args"] if "=" in a)
            reloader = (cpu_cores(args["config-reloader-cpu-request"]), memory_bytes(args["config-reloader-memory-request"]))
            spec = prometheus["spec"]
            # Its pod: Prometheus and the config reloader (the init reloader requests the same).
            add("prometheus", "StatefulSet", {"nodeSelector": spec.get("nodeSelector"), "containers": [
                {"resources": spec["resources"]},
                {"resources": {"requests": {"cpu": str(reloader[0]), "memory": str(int(reloader[1]))}}}]},
                int(spec.get("replicas", 1)))
    for release in unrendered_releases(plan):
        v = release.inputs["values"]
        add(release.inputs["name"], "DaemonSet" if release.inputs["name"] == values.NODE_EXPORTER_RELEASE else "Deployment",
            {"nodeSelector": v.get("nodeSelector"), "containers": [{"resources": v["resources"]}]}, 1)
    return found


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_printed_sum_is_what_the_rendered_charts_request(cloud: str, starter_plans: dict[str, Any]) -> None:
    plan = starter_plans[cloud]
    printed = footprint(plan.to_json())
    rendered = _rendered_workloads(plan)
    assert (printed.cpu, printed.memory) == (sum(w.cpu * w.pods for w in rendered), sum(w.memory * w.pods for w in rendered))
    assert len(printed.workloads) == len(rendered)
    assert sorted((w.pods, w.cpu, w.memory) for w in printed.workloads) == sorted((w.pods, w.cpu, w.memory) for w in rendered)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_pod_on_general_requests_cpu_and_memory(cloud: str, starter_plans: dict[str, Any]) -> None:
    """A pod without requests is the first the kubelet evicts when the node runs short, and the
    scheduler reserves no room for it: the hub, its proxy, the gateway and cert-manager too."""
    bare = [w.name for w in _rendered_workloads(starter_plans[cloud]) if not (w.cpu and w.memory)]
    assert not bare, f"{cloud}: on general without CPU and memory requests: {bare}"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_platform_fits_the_general_instance_qhub_init_writes(cloud: str, starter_plans: dict[str, Any]) -> None:
    document = starter_config(cloud, "lab", "lab.example.org")
    assert document["monitoring"]["enabled"] is True
    instance = document[PROVIDER_BLOCKS[cloud]]["node_groups"]["general"]["instance"]
    assert instance == MACHINES[cloud][0]
    # One general node at most: everything that runs there must fit on one.
    assert document[PROVIDER_BLOCKS[cloud]]["node_groups"]["general"]["max_nodes"] == 1
    plan = starter_plans[cloud]
    assert plan.of_type("qhub:platform:Monitoring")
    used = footprint(plan.to_json())
    cpu, memory = ALLOCATABLE[instance]
    assert used.cpu + SYSTEM_RESERVE[0] <= cpu, f"{cloud} {instance}: {used.summary()}, allocatable {cpu} CPU"
    assert used.memory + SYSTEM_RESERVE[1] <= memory, f"{cloud} {instance}: {used.summary()}, allocatable {memory / GiB:.2f}Gi"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_kube_state_metrics_exports_each_clouds_node_group_label(cloud: str, starter_plans: dict[str, Any]) -> None:
    """(With the starter plans at hand.) Dashboards tell node groups apart by the label each cloud
    module puts into ClusterOutputs.node_selectors; kube-state-metrics is allowed to export it."""
    from tests.support.hub import GROUP_LABELS

    (release,) = [r for r in unrendered_releases(starter_plans[cloud]) if r.inputs["name"] == values.KUBE_STATE_METRICS_RELEASE]
    assert f"nodes=[{GROUP_LABELS[cloud]}]" in release.inputs["values"]["metricLabelsAllowlist"]


def test_qhub_plan_prints_the_sum(tmp_path: Path, starter_plans: dict[str, Any]) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path / "aws.yaml"
    path.write_text(yaml.safe_dump(starter_config("aws", "lab", "lab.example.org"), sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "qhub", "plan", "--config", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.rstrip().splitlines()[-1] == footprint(starter_plans["aws"].to_json()).summary()
