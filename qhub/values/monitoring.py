"""Values of the monitoring releases: kube-prometheus-stack, kube-state-metrics, node-exporter.

Pure functions: (facts about the cluster and the platform) -> dict. No Pulumi resource is created
here and no secret is read; the hub token Prometheus scrapes with reaches it by a Secret
reference in QHub's own ServiceMonitor (qhub/platform/monitoring.py).

kube-prometheus-stack runs the Prometheus Operator, one Prometheus and the stack's recording
rules, alerts and Kubernetes dashboards. Its own grafana, kube-state-metrics, node-exporter and
windows-exporter dependencies are off: Grafana is a release of the standalone chart
(qhub/values/grafana.py), the two exporters are releases of their own charts (below), so each
is pinned and configured in one place, and Alertmanager is off (the QHub file configures no
receivers; alerts show in Grafana and Prometheus). Control-plane monitors that no managed
cluster lets a pod reach (controller manager, scheduler, etcd, kube-proxy) are off too.

The exporters' charts (kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1) are not among
the chart sources the tests render offline (../shared/charts holds kube-prometheus-stack with
only its `crds` subchart): their values here use keys of those chart versions' values.yaml, and
the tests check what they can without the charts (tests/test_monitoring_values.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Release names; every Service and object name below follows from them (the charts use the
# release name as their full name when it contains the chart's name).
STACK_RELEASE = "kube-prometheus-stack"
KUBE_STATE_METRICS_RELEASE = "kube-state-metrics"
NODE_EXPORTER_RELEASE = "prometheus-node-exporter"
# The Prometheus custom resource the stack creates (`<fullname>-prometheus`), its StatefulSet
# (`prometheus-<name>`) and its Service, which Grafana queries.
PROMETHEUS_NAME = f"{STACK_RELEASE}-prometheus"
PROMETHEUS_STATEFULSET = f"prometheus-{PROMETHEUS_NAME}"
PROMETHEUS_SERVICE = PROMETHEUS_NAME
PROMETHEUS_PORT = 9090
# Prometheus' config-reloader sidecar serves its own metrics here (scraped by the stack's self-monitor).
RELOADER_PORT = 8080
# The name of the volume claim template; the StatefulSet's one replica claims
# `<template>-<statefulset>-0`, which QHub creates itself so that it grows in place.
DB_TEMPLATE = "prometheus-db"
PROMETHEUS_CLAIM = f"{DB_TEMPLATE}-{PROMETHEUS_STATEFULSET}-0"
KUBE_STATE_METRICS_PORT = 8080
NODE_EXPORTER_PORT = 9100

# The label QHub puts on its monitoring pods, by role: NetworkPolicies name them by it.
ROLE_LABEL = "qhub.dev/monitoring"
PROMETHEUS_POD_LABELS = {ROLE_LABEL: "prometheus"}
KUBE_STATE_METRICS_POD_LABELS = {ROLE_LABEL: "kube-state-metrics"}

# Pod labels kube-state-metrics exports on kube_pod_labels: who a user server or dask pod
# belongs to (KubeSpawner's username label, the primary group QHub's hub config adds), what it
# is (dask-gateway's component and cluster labels).
POD_LABELS_EXPORTED = ("hub.jupyter.org/username", "qhub.dev/primary-group", "app.kubernetes.io/component",
                       "gateway.dask.org/cluster")
# The names dashboards use for them (ServiceMonitor relabelings of the kube-state-metrics scrape).
POD_LABEL_NAMES = {"hub.jupyter.org/username": "username", "qhub.dev/primary-group": "primary_group",
                   "app.kubernetes.io/component": "component", "gateway.dask.org/cluster": "dask_cluster"}
NODE_GROUP_LABEL = "node_group"
"""The label QHub's relabeling gives kube_node_labels: the QHub node group of the node."""

# dask-gateway's DaskCluster objects carry the user who made the cluster (spec.username); the
# custom-resource metrics of kube-state-metrics export it, so dask clusters count per user.
DASK_CLUSTER_INFO = "qhub_dask_cluster_info"
_DASK_GROUP, _DASK_VERSION, _DASK_KIND = "gateway.dask.org", "v1alpha1", "DaskCluster"

# The general group hosts every monitoring pod; these are their requests (and memory limits).
# Prometheus' memory grows with series and retention; 1 GiB holds a small platform's 15 days.
PROMETHEUS_RESOURCES = {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
OPERATOR_RESOURCES = {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
RELOADER_RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}
WEBHOOK_JOB_RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}
KUBE_STATE_METRICS_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
NODE_EXPORTER_RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}


@dataclass(frozen=True)
class MonitoringFacts:
    """What the monitoring values need to know beyond the `monitoring` block."""

    namespace: str
    """The platform namespace, where every monitoring release and monitor lives."""
    general_selector: Mapping[str, str]
    """Node selector of the general group."""
    node_groups: Mapping[str, Mapping[str, str]]
    """Every node group's selector (ClusterOutputs.node_selectors)."""
    storage_class: str
    """Block storage class of Prometheus' volume."""
    retention: str
    storage: str
    extra_stack: Mapping[str, Any] = field(default_factory=dict)
    """Values merged last into the stack's (none today; for callers' additions)."""


def sanitized(label: str) -> str:
    """A Kubernetes label as kube-state-metrics names it in its metrics: `label_` and the key with
    every character outside [a-zA-Z0-9_] replaced by `_` (Prometheus label names)."""
    return "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


def kube_prometheus_stack_values(facts: MonitoringFacts) -> dict[str, Any]:
    """Values of kube-prometheus-stack 88.5.3 for one platform."""
    general = dict(facts.general_selector)
    # QHub's monitors and rules carry no release label: select every one of them.
    selectors = {f"{kind}SelectorNilUsesHelmValues": False
                 for kind in ("serviceMonitor", "podMonitor", "rule", "probe", "scrapeConfig")}
    values: dict[str, Any] = {
        "crds": {"enabled": True},
        "alertmanager": {"enabled": False},
        # Grafana is its own release; the stack still ships its Kubernetes dashboards as
        # ConfigMaps that Grafana's sidecar loads, into their own folder.
        "grafana": {
            "enabled": False,
            "forceDeployDashboards": True,
            "forceDeployDatasources": False,
            "defaultDashboardsTimezone": "browser",
            "sidecar": {"dashboards": {"label": "grafana_dashboard", "labelValue": "1",
                                       "annotations": {"grafana_folder": "Kubernetes"}}},
        },
        "kubeStateMetrics": {"enabled": False},
        "nodeExporter": {"enabled": False},
        "windowsMonitoring": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "defaultRules": {"rules": {"etcd": False, "kubeControllerManager": False, "kubeSchedulerAlerting": False,
                                   "kubeSchedulerRecording": False, "kubeProxy": False, "windows": False}},
        "prometheusOperator": {
            "nodeSelector": general,
            "resources": OPERATOR_RESOURCES,
            "prometheusConfigReloader": {"resources": RELOADER_RESOURCES},
            "admissionWebhooks": {"patch": {"nodeSelector": general, "resources": WEBHOOK_JOB_RESOURCES}},
        },
        "prometheus": {
            "prometheusSpec": {
                "nodeSelector": general,
                "retention": facts.retention,
                "resources": PROMETHEUS_RESOURCES,
                # The hub's /hub/metrics: z2jh's hub policy admits pods with network-access-hub;
                # conda-store's /metrics: QHub's conda-store policy admits this label. The role
                # label is what QHub's own policies name Prometheus by.
                "podMetadata": {"labels": {
                    **PROMETHEUS_POD_LABELS,
                    "hub.jupyter.org/network-access-hub": "true",
                    "qhub.dev/network-access-conda-store": "true",
                }},
                # The claim of the one replica is QHub's (PROMETHEUS_CLAIM), made before the
                # StatefulSet, which adopts it by name: QHub grows it in place like storage.*.
                "storageSpec": {"volumeClaimTemplate": {
                    "metadata": {"name": DB_TEMPLATE},
                    "spec": {"storageClassName": facts.storage_class, "accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": facts.storage}}},
                }},
                **selectors,
            },
        },
    }
    return _merge(values, facts.extra_stack)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) else value
    return merged


def node_group_label_keys(node_groups: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The node label keys that tell node groups apart (each cloud's group label, or what an
    existing cluster's node_selectors name)."""
    return sorted({key for selector in node_groups.values() for key in selector})


def metric_labels_allowlist(node_groups: Mapping[str, Mapping[str, str]]) -> list[str]:
    """kube-state-metrics' --metric-labels-allowlist: the pod labels above, the node-group labels."""
    return [f"pods=[{','.join(POD_LABELS_EXPORTED)}]", f"nodes=[{','.join(node_group_label_keys(node_groups))}]"]


def dask_cluster_state() -> dict[str, Any]:
    """kube-state-metrics' CustomResourceStateMetrics config: one info series per DaskCluster,
    with its name, namespace and the user who made it."""
    return {
        "kind": "CustomResourceStateMetrics",
        "spec": {"resources": [{
            "groupVersionKind": {"group": _DASK_GROUP, "version": _DASK_VERSION, "kind": _DASK_KIND},
            "metricNamePrefix": DASK_CLUSTER_INFO.removesuffix("_info"),
            "labelsFromPath": {"namespace": ["metadata", "namespace"], POD_LABEL_NAMES["gateway.dask.org/cluster"]: ["metadata", "name"]},
            "metrics": [{
                "name": "info",
                "help": "A dask cluster of QHub's gateway and the user who made it.",
                "each": {"type": "Info", "info": {"labelsFromPath": {"username": ["spec", "username"]}}},
            }],
        }]},
    }


def kube_state_metrics_values(facts: MonitoringFacts) -> dict[str, Any]:
    """Values of kube-state-metrics 8.4.0 (kube-state-metrics 2.20.0)."""
    return {
        "nodeSelector": dict(facts.general_selector),
        "resources": KUBE_STATE_METRICS_RESOURCES,
        "podLabels": dict(KUBE_STATE_METRICS_POD_LABELS),
        "metricLabelsAllowlist": metric_labels_allowlist(facts.node_groups),
        "customResourceState": {"enabled": True, "config": dask_cluster_state()},
        "rbac": {"extraRules": [{"apiGroups": [_DASK_GROUP], "resources": ["daskclusters"], "verbs": ["list", "watch"]}]},
        # QHub's own ServiceMonitor scrapes it, with the relabelings dashboards rely on.
        "prometheus": {"monitor": {"enabled": False}},
    }


def node_exporter_values(facts: MonitoringFacts) -> dict[str, Any]:
    """Values of prometheus-node-exporter 4.56.1 (node_exporter 1.12.1): a pod on every node,
    GPU nodes included (the chart tolerates every NoSchedule taint by default)."""
    return {
        "resources": NODE_EXPORTER_RESOURCES,
        "prometheus": {"monitor": {"enabled": False}},
    }


def ksm_relabelings(node_groups: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """metricRelabelings of the kube-state-metrics scrape: each node's QHub group as `node_group`
    (from the group's own selector, so every cloud and an existing cluster read alike), and the
    exported pod labels under short names."""
    rules: list[dict[str, Any]] = []
    for group, selector in sorted(node_groups.items()):
        keys = sorted(selector)
        rules.append({
            "sourceLabels": [sanitized(key) for key in keys],
            "separator": ";",
            "regex": ";".join(re.escape(selector[key]) for key in keys),
            "targetLabel": NODE_GROUP_LABEL,
            "replacement": group,
            "action": "replace",
        })
    for label, name in POD_LABEL_NAMES.items():
        rules.append({"sourceLabels": [sanitized(label)], "regex": "(.+)", "targetLabel": name,
                      "replacement": "$1", "action": "replace"})
    return rules
