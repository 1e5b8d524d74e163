"""What the platform asks of its general node group: the CPU and memory requests of every pod a
plan places there, summed from the plan alone (`qhub plan` prints it).

QHub's own workloads (Deployments, StatefulSets, DaemonSets) are read from their planned inputs.
Each Helm release's pods are read from its values, where the chart takes them (CHART_PODS):
the values path of each pod's resources, replicas and node selector, with the chart's defaults
where QHub leaves them. Prometheus' pod, which its operator makes, is read from the stack's
values too. tests/test_general_capacity.py checks this sum against the same pods as the real
charts render them, and that it fits the general instance `qhub init` writes on each cloud.

A pod whose node selector is the general group's, or that has none (it may land there), counts;
a DaemonSet counts one pod (one node). Jobs (the charts' install hooks) run once and do not.
Pure: no Pulumi, no cloud SDK; the input is the plan's JSON (Plan.to_json()).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qhub.config.base import parse_quantity

RELEASE = "kubernetes:helm.sh/v3:Release"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet")


@dataclass(frozen=True)
class ChartPod:
    """One pod a chart runs, as its values configure it."""

    name: str
    containers: tuple[str, ...]
    """Values paths of its containers' `resources` (init containers are not requested longer
    than the pod's containers in these charts)."""
    selector: str | None
    """Values path of its nodeSelector; None where it runs on every node (a DaemonSet)."""
    replicas: str | None = None
    default_replicas: int = 1
    enabled: str | None = None
    """Values path of a switch; the pod exists when it is true (chart default `enabled_default`)."""
    enabled_default: bool = True
    default_resources: Mapping[str, Any] | None = None
    """The chart's own `resources` for its first container, where QHub sets none."""


# The pods of each chart the platform installs, as its templates read the values (each chart's
# values.yaml at its pinned version; the default replica counts are theirs).
CHART_PODS: Mapping[str, tuple[ChartPod, ...]] = {
    "jupyterhub": (
        ChartPod("hub", ("hub.resources",), "hub.nodeSelector"),
        ChartPod("proxy", ("proxy.chp.resources",), "proxy.chp.nodeSelector"),
        ChartPod("user-scheduler", ("scheduling.userScheduler.resources",), "scheduling.userScheduler.nodeSelector",
                 replicas="scheduling.userScheduler.replicas", default_replicas=2, enabled="scheduling.userScheduler.enabled"),
    ),
    "dask-gateway": (
        ChartPod("api-dask-gateway", ("gateway.resources",), "gateway.nodeSelector", replicas="gateway.replicas"),
        ChartPod("controller-dask-gateway", ("controller.resources",), "controller.nodeSelector"),
        ChartPod("traefik-dask-gateway", ("traefik.resources",), "traefik.nodeSelector", replicas="traefik.replicas"),
    ),
    "nginx-ingress": (
        ChartPod("nginx-ingress-controller", ("controller.resources",), "controller.nodeSelector", replicas="controller.replicaCount",
                 default_resources={"requests": {"cpu": "100m", "memory": "128Mi"}}),
    ),
    "cert-manager": (
        ChartPod("cert-manager", ("resources",), "nodeSelector", replicas="replicaCount"),
        ChartPod("cert-manager-webhook", ("webhook.resources",), "webhook.nodeSelector", replicas="webhook.replicaCount"),
        ChartPod("cert-manager-cainjector", ("cainjector.resources",), "cainjector.nodeSelector", replicas="cainjector.replicaCount",
                 enabled="cainjector.enabled"),
    ),
    "cluster-autoscaler": (
        ChartPod("cluster-autoscaler", ("resources",), "nodeSelector", replicas="replicaCount"),
    ),
    "kube-prometheus-stack": (
        ChartPod("prometheus-operator", ("prometheusOperator.resources",), "prometheusOperator.nodeSelector"),
        # The operator makes Prometheus' pod: Prometheus and its config reloader.
        ChartPod("prometheus", ("prometheus.prometheusSpec.resources", "prometheusOperator.prometheusConfigReloader.resources"),
                 "prometheus.prometheusSpec.nodeSelector", replicas="prometheus.prometheusSpec.replicas"),
    ),
    "grafana": (
        # Grafana and the sidecar that loads the dashboards.
        ChartPod("grafana", ("resources", "sidecar.resources"), "nodeSelector", replicas="replicas"),
    ),
    "kube-state-metrics": (ChartPod("kube-state-metrics", ("resources",), "nodeSelector", replicas="replicas"),),
    "prometheus-node-exporter": (ChartPod("prometheus-node-exporter", ("resources",), None),),
    # Only on GPU nodes, by its node affinity on the GPU label.
    "nvidia-device-plugin": (),
}


@dataclass(frozen=True)
class PodRequests:
    """One workload on the general group: its pods and what each requests."""

    name: str
    pods: int
    cpu: Decimal
    """Cores requested by one pod."""
    memory: Decimal
    """Bytes requested by one pod."""


@dataclass(frozen=True)
class Footprint:
    """The general group's requested CPU and memory, by workload."""

    workloads: list[PodRequests] = field(default_factory=list)
    uncounted: list[str] = field(default_factory=list)
    """Releases of charts this module does not know (the admin's helm_extensions)."""

    @property
    def cpu(self) -> Decimal:
        return sum((w.cpu * w.pods for w in self.workloads), Decimal(0))

    @property
    def memory(self) -> Decimal:
        return sum((w.memory * w.pods for w in self.workloads), Decimal(0))

    @property
    def without_requests(self) -> list[str]:
        """Workloads that request neither CPU nor memory (counted as nothing)."""
        return sorted(w.name for w in self.workloads if not w.cpu and not w.memory)

    def summary(self) -> str:
        line = f"general node group: {len(self.workloads)} workloads request {format_cpu(self.cpu)} CPU and {format_memory(self.memory)} memory"
        if self.without_requests:
            line += f"; {len(self.without_requests)} request nothing: {', '.join(self.without_requests)}"
        if self.uncounted:
            line += f"; not counted (charts QHub does not know): {', '.join(self.uncounted)}"
        return line


def cpu_cores(value: Any) -> Decimal:
    text = str(value)
    return Decimal(text[:-1]) / 1000 if text.endswith("m") else Decimal(text)


def memory_bytes(value: Any) -> Decimal:
    parsed = parse_quantity(str(value))
    if parsed is None:
        raise ValueError(f"{value!r} is not a memory quantity")
    return parsed


def format_cpu(cores: Decimal) -> str:
    return f"{cores:.2f}"


def format_memory(size: Decimal) -> str:
    return f"{size / 2**30:.2f}Gi"


def _requests(resources: Any) -> tuple[Decimal, Decimal]:
    requests = (resources or {}).get("requests") or {} if isinstance(resources, Mapping) else {}
    return (cpu_cores(requests["cpu"]) if "cpu" in requests else Decimal(0),
            memory_bytes(requests["memory"]) if "memory" in requests else Decimal(0))


def _at(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _on(selector: Any, general: Mapping[str, str]) -> bool:
    """Whether a pod with this node selector may be placed on the general group: it names no
    other value of the labels that tell the groups apart (other labels, such as the OS, every
    node of the group has)."""
    return all(general[key] == value for key, value in dict(selector or {}).items() if key in general)


def general_selector(plan: Mapping[str, Any]) -> dict[str, str]:
    """The general group's node selector: the one the hub's release places the hub by."""
    for resource in plan["resources"]:
        if resource["type"] == RELEASE and resource["inputs"].get("chart") == "jupyterhub":
            return dict(resource["inputs"]["values"]["hub"]["nodeSelector"])
    raise ValueError("the plan has no jupyterhub release")


def pod_requests(spec: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """What a pod spec requests: its containers' sum, or its largest init container's if larger."""
    containers = [_requests(c.get("resources")) for c in spec.get("containers") or []]
    inits = [_requests(c.get("resources")) for c in spec.get("initContainers") or []]
    cpu = max([sum((c for c, _ in containers), Decimal(0)), *(c for c, _ in inits)])
    memory = max([sum((m for _, m in containers), Decimal(0)), *(m for _, m in inits)])
    return cpu, memory


def footprint(plan: Mapping[str, Any]) -> Footprint:
    """Every workload of the plan on the general group, with its pods' requests."""
    general = general_selector(plan)
    workloads: list[PodRequests] = []
    uncounted: list[str] = []
    for resource in plan["resources"]:
        inputs = resource["inputs"]
        if resource["type"] in WORKLOADS and not resource.get("read"):
            spec = inputs["spec"]["template"]["spec"]
            if _on(spec.get("nodeSelector"), general):
                pods = 1 if resource["type"].endswith("DaemonSet") else int(inputs["spec"].get("replicas", 1))
                workloads.append(PodRequests(inputs["metadata"]["name"], pods, *pod_requests(spec)))
        elif resource["type"] == RELEASE and inputs.get("chart") in CHART_PODS:
            values = inputs.get("values") or {}
            for pod in CHART_PODS[inputs["chart"]]:
                switch = _at(values, pod.enabled) if pod.enabled else None
                if not (pod.enabled_default if switch is None else switch):
                    continue
                if pod.selector is not None and not _on(_at(values, pod.selector), general):
                    continue
                replicas = _at(values, pod.replicas) if pod.replicas else None
                totals = [_requests(_at(values, path) if _at(values, path) is not None or index else pod.default_resources)
                          for index, path in enumerate(pod.containers)]
                workloads.append(PodRequests(f"{inputs['name']}/{pod.name}", int(pod.default_replicas if replicas is None else replicas),
                                             sum((c for c, _ in totals), Decimal(0)), sum((m for _, m in totals), Decimal(0))))
        elif resource["type"] == RELEASE:
            uncounted.append(str(inputs.get("name")))
    return Footprint(workloads, sorted(uncounted))
