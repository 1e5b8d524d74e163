"""Monitoring as planned: off unless the file turns it on; with it, kube-prometheus-stack and
Grafana rendered by the real helm (tests/support/helm.py) with every pod on the general group
with requests, Prometheus on QHub's claim with the configured retention, no secret in any value,
QHub's monitors finding the rendered Services and pods they scrape, and the custom resources
waiting for the stack's release. (Each object's validity against the Kubernetes schemas and the
stack's CRDs is tests/test_kubernetes_objects.py's.)

kube-state-metrics 8.4.0 and prometheus-node-exporter 4.56.1 are not among the chart sources
(../shared/charts), so helm cannot render them here: their values are checked for what can be
checked without the charts (the allowlist's syntax and label keys, the Kubernetes fields they
carry, the DaskCluster metrics against the real dask-gateway backend and the chart's CRD).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from qhub.config import load_file
from qhub.offline.engine import Plan
from qhub.platform import monitoring as platform_monitoring
from qhub.values import grafana as grafana_values
from qhub.values import monitoring as values
from qhub.versions import GRAFANA_CHART, KUBE_PROMETHEUS_STACK_CHART, KUBE_STATE_METRICS_CHART, NODE_EXPORTER_CHART
from tests.conftest import COMPAT_CONFIGS, all_plans, plan_sources
from tests.support.helm import objects_of, release_named, render_plan, stack_kubernetes_version, unrendered_releases
from tests.support.kubernetes_schema import validate

PLANS = all_plans()
SOURCES = plan_sources()
MONITORED = [label for label, path in sorted(SOURCES.items()) if load_file(path).config.monitoring.enabled]
UNMONITORED = ["stack-prod", *(f"compat-{path.stem}" for path in COMPAT_CONFIGS), "fixture-aws.happy", "fixture-do.happy"]
MONITORING_CHARTS = {c.name for c in (KUBE_PROMETHEUS_STACK_CHART, GRAFANA_CHART, KUBE_STATE_METRICS_CHART, NODE_EXPORTER_CHART)}
RELEASE = "kubernetes:helm.sh/v3:Release"
QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def _config(label: str) -> Any:
    return load_file(SOURCES[label]).config


def _rendered(label: str) -> dict[str, list[dict[str, Any]]]:
    return render_plan(PLANS[label](), stack_kubernetes_version(_config(label)))


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_monitoring_is_planned_where_a_file_turns_it_on() -> None:
    assert MONITORED == ["fixture-aws.happy.gpu", "stack-staging"]


@pytest.mark.parametrize("label", [label for label in UNMONITORED if label in PLANS])
def test_without_monitoring_nothing_of_it_is_planned(label: str) -> None:
    """Files that do not mention monitoring plan as before: no release, monitor, dashboard,
    route, secret or hub service of it."""
    assert not _config(label).monitoring.enabled
    plan = PLANS[label]()
    assert not plan.of_type("qhub:platform:Monitoring")
    assert not [r for r in plan.of_type(RELEASE) if r.inputs["chart"] in MONITORING_CHARTS]
    assert not [r for r in plan.resources if "monitoring.coreos.com" in r.type]
    assert not [r for r in plan.resources if "grafana" in r.name or "prometheus" in r.name]
    assert "grafana_url" not in plan.outputs
    hub = release_named(plan, "jupyterhub")
    assert "grafana" not in str(hub.inputs["values"])
    assert f"{_config(label).domain}/monitoring" not in str(plan.to_json())


@pytest.fixture(params=MONITORED, scope="module")
def label(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _pod_templates(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{o['kind']} {o['metadata']['name']}", o["spec"]["template"]) for o in objects
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


def test_every_monitoring_pod_runs_on_the_general_group_with_requests(label: str) -> None:
    config, plan, rendered = _config(label), PLANS[label](), _rendered(label)
    general = release_named(plan, "jupyterhub").inputs["values"]["hub"]["nodeSelector"]
    for release in ("kube-prometheus-stack", "grafana"):
        templates = _pod_templates(rendered[release])
        assert templates, release
        for name, template in templates:
            assert template["spec"].get("nodeSelector") == general, name
            for container in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]:
                requests = (container.get("resources") or {}).get("requests") or {}
                assert {"cpu", "memory"} <= set(requests), f"{name}/{container['name']}"
    # Prometheus itself is made by the operator from the custom resource.
    (prometheus,) = objects_of(rendered["kube-prometheus-stack"], "Prometheus")
    spec = prometheus["spec"]
    assert spec["nodeSelector"] == general and {"cpu", "memory"} <= set(spec["resources"]["requests"])
    assert spec["retention"] == config.monitoring.retention
    # The exporters' releases (not renderable here): the general group and requests in values.
    for release in unrendered_releases(plan):
        assert {"cpu", "memory"} <= set(release.inputs["values"]["resources"]["requests"]), release.name
    assert release_named_unrendered(plan, values.KUBE_STATE_METRICS_RELEASE)["nodeSelector"] == general


def release_named_unrendered(plan: Plan, name: str) -> dict[str, Any]:
    (found,) = [r for r in unrendered_releases(plan) if r.inputs["name"] == name]
    return dict(found.inputs["values"])


def test_the_stack_runs_without_its_own_grafana_exporters_and_alertmanager(label: str) -> None:
    rendered = _rendered(label)["kube-prometheus-stack"]
    kinds = {o["kind"] for o in rendered}
    assert "Alertmanager" not in kinds
    names = {o["metadata"]["name"] for o in rendered}
    assert not {n for n in names if "grafana" in n and not n.startswith(values.STACK_RELEASE + "-")} - {n for n in names if n.endswith("-grafana-datasource")}
    deployments = {o["metadata"]["name"] for o in objects_of(rendered, "Deployment")} | {o["metadata"]["name"] for o in objects_of(rendered, "DaemonSet")}
    assert deployments == {f"{values.STACK_RELEASE}-operator"}
    # Its CRDs come with the release; the kinds QHub adds are among them.
    crds = {o["spec"]["names"]["kind"] for o in objects_of(rendered, "CustomResourceDefinition")}
    assert {"ServiceMonitor", "PodMonitor", "PrometheusRule", "Prometheus"} <= crds
    # Its Kubernetes dashboards are ConfigMaps Grafana's sidecar loads.
    dashboards = [o for o in objects_of(rendered, "ConfigMap") if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert len(dashboards) > 10


def test_prometheus_keeps_its_data_on_qhubs_claim(label: str) -> None:
    """The StatefulSet the operator makes claims `<template>-prometheus-<name>-0`: QHub's claim,
    made before the release, protected, of the configured size, grown in place by QHub."""
    config, plan = _config(label), PLANS[label]()
    (prometheus,) = objects_of(_rendered(label)["kube-prometheus-stack"], "Prometheus")
    template = prometheus["spec"]["storage"]["volumeClaimTemplate"]
    claim_name = f"{template['metadata']['name']}-prometheus-{prometheus['metadata']['name']}-0"
    (claim,) = [r for r in plan.of_type("kubernetes:core/v1:PersistentVolumeClaim") if r.inputs["metadata"]["name"] == claim_name]
    assert claim.protect and claim.retain_on_delete
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == config.monitoring.storage
    assert template["spec"]["resources"]["requests"]["storage"] == config.monitoring.storage
    assert claim.inputs["spec"]["storageClassName"] == template["spec"]["storageClassName"]
    stack = [r for r in plan.of_type(RELEASE) if r.inputs["name"] == values.STACK_RELEASE][0]
    assert claim.urn in stack.dependencies


def test_qhubs_monitors_wait_for_the_stack_and_find_what_they_scrape(label: str) -> None:
    config, plan, rendered = _config(label), PLANS[label](), _rendered(label)
    namespace = config.namespace
    stack = [r for r in plan.of_type(RELEASE) if r.inputs["name"] == values.STACK_RELEASE][0]
    custom = [r for r in plan.resources if r.type.startswith("kubernetes:monitoring.coreos.com/")]
    assert {r.type.rsplit(":", 1)[1] for r in custom} == {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    for resource in custom:
        assert stack.urn in resource.dependencies, resource.name
    services = [o for objects in rendered.values() for o in objects_of(objects, "Service")]
    services += [r.inputs for r in plan.of_type("kubernetes:core/v1:Service") if not r.read]
    monitors = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in custom if r.type.endswith(":ServiceMonitor")}
    for name in ("qhub-hub", "qhub-conda-store"):
        spec = monitors[name]
        selected = [s for s in services if s["metadata"].get("namespace", namespace) == namespace
                    and spec["selector"]["matchLabels"].items() <= (s["metadata"].get("labels") or {}).items()
                    and all(re.fullmatch(rule["regex"], s["metadata"]["name"]) for rule in spec["endpoints"][0].get("relabelings", [])
                            if rule["action"] == "keep" and rule["sourceLabels"] == ["__meta_kubernetes_service_name"])]
        assert len(selected) == 1, name
        assert spec["endpoints"][0]["port"] in {p.get("name") for p in selected[0]["spec"]["ports"]}, name
    # The hub's metrics need the read:metrics token, from the Secret the hub's service reads.
    auth = monitors["qhub-hub"]["endpoints"][0]["authorization"]
    assert auth["credentials"] == {"name": platform_monitoring.PROMETHEUS_TOKEN.name, "key": platform_monitoring.PROMETHEUS_TOKEN.key}
    hub_env = release_named(plan, "jupyterhub").inputs["values"]["hub"]["extraEnv"]
    assert {"name": "QHUB_SERVICE_TOKEN_PROMETHEUS", "valueFrom": {"secretKeyRef": auth["credentials"]}} in hub_env
    # The ingress controller's pods carry the PodMonitor's labels and its metrics port.
    (pod_monitor,) = [r.inputs["spec"] for r in custom if r.type.endswith(":PodMonitor")]
    controllers = [t for _, t in _pod_templates(rendered["qhub-ingress"])
                   if pod_monitor["selector"]["matchLabels"].items() <= t["metadata"]["labels"].items()]
    assert len(controllers) == 1
    ports = {p.get("name") for c in controllers[0]["spec"]["containers"] for p in c.get("ports", [])}
    assert pod_monitor["podMetricsEndpoints"][0]["port"] in ports
    # The exporters' Services are named by their charts' selector labels and the release names.
    assert monitors["qhub-kube-state-metrics"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == values.KUBE_STATE_METRICS_RELEASE
    assert monitors["qhub-node-exporter"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == values.NODE_EXPORTER_RELEASE


def test_no_secret_is_in_any_monitoring_value(label: str) -> None:
    plan, rendered = PLANS[label](), _rendered(label)
    for release in [r for r in plan.of_type(RELEASE) if r.inputs["chart"] in MONITORING_CHARTS]:
        assert "[secret]" not in _strings(release.inputs["values"]), release.name
    grafana = release_named(plan, "grafana").inputs["values"]
    assert grafana["admin"]["existingSecret"] == grafana_values.SECRET_NAME and "adminPassword" not in grafana
    assert grafana["grafana.ini"]["auth.generic_oauth"]["client_secret"] == f"$__env{{{grafana_values.CLIENT_SECRET_ENV}}}"
    # The chart makes no Secret of its own (its admin password would be in the release).
    assert not objects_of(rendered["grafana"], "Secret")
    (deployment,) = objects_of(rendered["grafana"], "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert re.fullmatch(r"[0-9a-f]{64}", annotations["qhub.dev/secrets-hmac"]), "a rotated secret rolls Grafana"


def test_grafana_is_served_at_monitoring_through_the_platforms_ingress(label: str) -> None:
    config, plan, rendered = _config(label), PLANS[label](), _rendered(label)
    minions = [r.inputs for r in plan.of_type("kubernetes:networking.k8s.io/v1:Ingress")
               if any(p["path"] == grafana_values.URL_PREFIX for rule in r.inputs["spec"].get("rules", [])
                      for p in rule.get("http", {}).get("paths", []))]
    (minion,) = minions
    assert minion["metadata"]["annotations"]["nginx.org/mergeable-ingress-type"] == "minion"
    (path,) = minion["spec"]["rules"][0]["http"]["paths"]
    (service,) = objects_of(rendered["grafana"], "Service")
    assert path["backend"]["service"] == {"name": service["metadata"]["name"], "port": {"number": service["spec"]["ports"][0]["port"]}}
    assert minion["spec"]["rules"][0]["host"] == config.domain
    assert plan.outputs["grafana_url"] == f"https://{config.domain}/monitoring/"


def test_kube_state_metrics_values_say_what_its_flags_and_the_cluster_accept(label: str) -> None:
    plan = PLANS[label]()
    ksm = release_named_unrendered(plan, values.KUBE_STATE_METRICS_RELEASE)
    allowlist = ksm["metricLabelsAllowlist"]
    parsed = dict(re.fullmatch(r"(\w+)=\[([^\]]*)\]", entry).groups() for entry in allowlist)  # type: ignore[union-attr]
    assert set(parsed) == {"pods", "nodes"}
    assert "hub.jupyter.org/username" in parsed["pods"].split(",")
    node_keys = parsed["nodes"].split(",")
    general = release_named(plan, "jupyterhub").inputs["values"]["hub"]["nodeSelector"]
    assert set(general) <= set(node_keys)
    for key in [*parsed["pods"].split(","), *node_keys]:
        assert QUALIFIED_NAME.match(key), key
    # What reaches the pod spec is valid there, as the chart puts it.
    ne = release_named_unrendered(plan, values.NODE_EXPORTER_RELEASE)
    validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": ksm["podLabels"]}, "spec": {
        "nodeSelector": ksm["nodeSelector"],
        "containers": [{"name": "ksm", "image": "x", "resources": ksm["resources"]}, {"name": "ne", "image": "x", "resources": ne["resources"]}],
    }})
    # The DaskCluster metrics name the kind the gateway chart's CRD serves, and the username the
    # real dask-gateway backend writes into each DaskCluster (make_cluster_object).
    (resource,) = ksm["customResourceState"]["config"]["spec"]["resources"]
    gvk = resource["groupVersionKind"]
    crds = [o for o in _rendered(label)["dask-gateway"] if o["kind"] == "CustomResourceDefinition"
            and o["spec"]["group"] == gvk["group"] and o["spec"]["names"]["kind"] == gvk["kind"]]
    assert crds and gvk["version"] in [v["name"] for v in crds[0]["spec"]["versions"] if v["served"]]
    assert ksm["rbac"]["extraRules"] == [{"apiGroups": [gvk["group"]], "resources": [crds[0]["spec"]["names"]["plural"]], "verbs": ["list", "watch"]}]
    from dask_gateway_server.backends.kubernetes.backend import KubeBackend

    backend = SimpleNamespace(crd_version=gvk["version"], common_labels={}, common_annotations={}, gateway_instance="dask-gateway",
                              get_labels=lambda name: {})
    made = KubeBackend.make_cluster_object(backend, "alice", {}, SimpleNamespace(to_dict=lambda: {}))  # type: ignore[arg-type]
    assert made["kind"] == gvk["kind"] and made["apiVersion"] == f"{gvk['group']}/{gvk['version']}"
    username_path = resource["metrics"][0]["each"]["info"]["labelsFromPath"]["username"]
    assert made[username_path[0]][username_path[1]] == "alice"
