"""QHub's Grafana dashboards (qhub/values/dashboards) and alerts query what the platform exports.

Every query is parsed by promql-parser (Prometheus' grammar), after Grafana's variables are
replaced as Grafana replaces them, and every metric it selects must be one a source really
exports:
- JupyterHub 5.5: the families its metrics module registers, imported in the hub image's
  packages (.venv-hub), with their histogram series;
- conda-store 2025.2.2: what its own get_metrics returns, run in .venv-conda-store;
- kube-state-metrics 2.20.0, cAdvisor 0.60.5 and the kubelet's volume statistics: lists taken
  from their sources at those versions (tests/data/metric-names, each file says where from),
  since none of them is a Python package; plus the DaskCluster info series QHub's
  kube-state-metrics values define, and Prometheus' own `up`.
The dashboards' JSON is read by grafana-foundation-sdk's models (generated from Grafana's own
dashboard schema) and must come back unchanged: a key Grafana does not know is dropped there.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from qhub.platform.monitoring import alert_rules
from qhub.values import grafana as grafana_values
from qhub.values import monitoring as values
from qhub.values.dashboards import dashboard_files, for_namespace
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data" / "metric-names"
NAMES_SCRIPT = ROOT / "tests" / "runtimes" / "metric_names.py"
DASHBOARDS = {name: json.loads(text) for name, text in dashboard_files().items()}
# What Grafana puts for its own variables when it sends a query; QHub's variables are label values.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$__interval": "1m", "$__range": "1h"}


def _listed(file_name: str) -> set[str]:
    lines = (DATA / file_name).read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _run(python: str, source: str) -> set[str]:
    done = subprocess.run([str(ROOT / python / "bin" / "python"), str(NAMES_SCRIPT), source],
                          capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(done.stdout))


@functools.cache
def exported() -> dict[str, set[str]]:
    """Metric names by source."""
    return {
        "jupyterhub": _run(".venv-hub", "jupyterhub"),
        "conda-store": _run(".venv-conda-store", "conda-store"),
        "kube-state-metrics": _listed("kube-state-metrics-v2.20.0.txt") | {values.DASK_CLUSTER_INFO},
        "cadvisor": _listed("cadvisor-v0.60.5.txt"),
        "kubelet": _listed("kubelet-volume-stats.txt"),
        "prometheus": {"up"},
    }


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, and of every query variable."""
    found = [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(<selector>, <label>): the selector is the query Grafana sends.
            match = re.fullmatch(r"label_values\((.*), *(\w+)\)", variable["query"]["query"])
            assert match, variable
            found.append((f"variable {variable['name']}", match[1]))
    return found


def grafana_expanded(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    # QHub's variables ($namespace, $user, ...) stand in label matchers' values.
    return re.sub(r"\$\{?(\w+)\}?", r"value-of-\1", expr)


def metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name: {node}"
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(grafana_expanded(expr)), visit)
    return names



@pytest.mark.parametrize("file_name", sorted(DASHBOARDS))
def test_every_query_parses_and_selects_only_exported_metrics(file_name: str) -> None:
    known = set().union(*exported().values())
    unknown = {(title, name) for title, expr in queries(DASHBOARDS[file_name]) for name in metric_names(expr) if name not in known}
    assert not unknown, f"{file_name}: metrics no source exports: {sorted(unknown)}"


def test_qhubs_alerts_select_only_exported_metrics() -> None:
    known = set().union(*exported().values())
    for rule in alert_rules("dev"):
        assert metric_names(rule["expr"]) <= known, rule["alert"]


def test_the_metric_sources_are_read_for_real() -> None:
    names = exported()
    assert {"jupyterhub_running_servers", "jupyterhub_active_users", "jupyterhub_server_spawn_duration_seconds_bucket"} <= names["jupyterhub"]
    assert {"conda_store_disk_usage", "conda_store_build_failed", "conda_store_environments"} <= names["conda-store"]
    assert {"kube_pod_labels", "kube_node_labels", "kube_node_status_allocatable"} <= names["kube-state-metrics"]
    assert "container_cpu_usage_seconds_total" in names["cadvisor"]
    assert not any(metric_names("rate(jupyterhub_spawn_seconds_total[5m])") <= names[source] for source in names)


def _lost(ours: Any, read: Any, path: str = "") -> list[str]:
    """Paths of what we wrote that the models' round trip drops or changes (they add defaults)."""
    if isinstance(ours, dict) and isinstance(read, dict):
        return [lost for key, value in ours.items()
                for lost in ([f"{path}/{key}"] if key not in read else _lost(value, read[key], f"{path}/{key}"))]
    if isinstance(ours, list) and isinstance(read, list) and len(ours) == len(read):
        return [lost for index, (a, b) in enumerate(zip(ours, read)) for lost in _lost(a, b, f"{path}[{index}]")]
    return [] if ours == read else [f"{path}: {ours!r} -> {read!r}"]


@pytest.mark.parametrize("file_name", sorted(DASHBOARDS))
def test_each_dashboard_is_one_grafana_reads_unchanged(file_name: str) -> None:
    plugins.register_default_plugins()
    dashboard = DASHBOARDS[file_name]
    read = json.loads(json.dumps(Dashboard.from_json(dashboard), cls=JSONEncoder))
    assert not _lost(dashboard, read), f"Grafana's schema drops or changes: {_lost(dashboard, read)}"
    assert {"uid", "title", "panels", "templating", "schemaVersion"} <= set(dashboard)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        position = panel["gridPos"]
        assert 0 <= position["x"] and position["x"] + position["w"] <= 24, panel["title"]
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel.get("targets", []):
            # The data source Grafana is provisioned with (qhub/values/grafana.py).
            assert target["datasource"] == {"type": "prometheus", "uid": grafana_values.DATASOURCE_UID}, panel["title"]
    (namespace,) = [v for v in dashboard["templating"]["list"] if v["name"] == "namespace"]
    assert namespace["type"] == "constant"
    assert json.loads(for_namespace(json.dumps(dashboard), "team-a"))["templating"]["list"][0]["query"] == "team-a"


def test_the_dashboards_cover_what_admins_ask() -> None:
    """The hub, usage per user and group (GPUs too), node groups, dask clusters, storage."""
    by_uid = {d["uid"]: {name for _, expr in queries(d) for name in metric_names(expr)} for d in DASHBOARDS.values()}
    assert {"jupyterhub_running_servers", "jupyterhub_active_users", "jupyterhub_server_spawn_duration_seconds_bucket",
            "jupyterhub_server_spawn_duration_seconds_count"} <= by_uid["qhub-hub"]
    assert {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes", "kube_pod_labels",
            "kube_pod_container_resource_requests"} <= by_uid["qhub-usage"]
    assert {"kube_node_labels", "kube_node_status_allocatable", "kube_pod_container_resource_requests"} <= by_uid["qhub-node-groups"]
    assert {values.DASK_CLUSTER_INFO, "kube_pod_labels"} <= by_uid["qhub-dask"]
    assert {"kubelet_volume_stats_used_bytes", "conda_store_disk_usage"} <= by_uid["qhub-storage"]
    usage = json.dumps(DASHBOARDS["usage.json"])
    assert "by (username)" in usage and "by (primary_group)" in usage and "nvidia_com_gpu" in usage


def test_the_labels_dashboards_group_by_are_made_by_qhubs_relabelings() -> None:
    """node_group, username, primary_group, component and dask_cluster exist only because the
    kube-state-metrics ServiceMonitor's relabelings (and the DaskCluster metrics) make them."""
    groups = {"general": {"qhub.dev/node-group": "general"}, "user": {"qhub.dev/node-group": "user"}}
    made = {rule["targetLabel"] for rule in values.ksm_relabelings(groups)}
    made |= set(values.dask_cluster_state()["spec"]["resources"][0]["labelsFromPath"])
    made |= set(values.dask_cluster_state()["spec"]["resources"][0]["metrics"][0]["each"]["info"]["labelsFromPath"])
    text = " ".join(expr for d in DASHBOARDS.values() for _, expr in queries(d))
    for label in ("node_group", "username", "primary_group", "component", "dask_cluster"):
        assert label in text and label in made, label
    # Each relabeling reads the label kube-state-metrics is allowed to export.
    allowed = " ".join(values.metric_labels_allowlist(groups))
    for rule in values.ksm_relabelings(groups):
        for source in rule["sourceLabels"]:
            assert any(values.sanitized(label) == source for label in re.findall(r"[\w./-]+", allowed)), source
