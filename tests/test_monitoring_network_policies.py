"""Monitoring under the plan's NetworkPolicies (QHub's and z2jh's as its chart renders them, read
with the API's semantics, tests/support/network_policy.py), on each monitored plan: Prometheus
reaches what it scrapes (the hub's metrics, which z2jh's hub policy admits only to labelled pods;
conda-store's; kube-state-metrics), Grafana reaches the hub and Prometheus, and nobody else
reaches Grafana, Prometheus or kube-state-metrics but their one client each.

The pods: the cluster of tests/test_security_network_policies.py (every pod QHub and the charts
run, the real dask-gateway controller's dask pods), plus Grafana as its chart renders it.
Prometheus' pod is made by its operator from the rendered Prometheus resource, whose
podMetadata labels the operator puts on the pod; kube-state-metrics' chart cannot be rendered
here, so its pod has the labels its values give and its chart's selector labels (checked once by
rendering kube-state-metrics 8.4.0 by hand; see tests/test_monitoring_values.py).
"""

from __future__ import annotations

import ipaddress

import pytest

from qhub.config import load_file
from qhub.platform import monitoring as platform_monitoring
from qhub.values import conda_store as conda_values
from qhub.values import grafana as grafana_values
from qhub.values import monitoring as values
from tests.conftest import all_plans, plan_sources
from tests.support.container import plan_objects
from tests.support.gateway import GatewayRuns
from tests.support.helm import stack_kubernetes_version
from tests.support.network_policy import Endpoint, allowed, pod
from tests.test_security_network_policies import Cluster, _pod_range, cluster_of

PLANS = all_plans()
SOURCES = plan_sources()
MONITORED = [label for label, path in sorted(SOURCES.items()) if load_file(path).config.monitoring.enabled]
HUB, HTTP = 8081, conda_values.SERVER_PORT
GRAFANA, PROMETHEUS, KSM = grafana_values.CONTAINER_PORT, values.PROMETHEUS_PORT, values.KUBE_STATE_METRICS_PORT


_CLUSTERS: dict[str, Cluster] = {}


@pytest.fixture(params=MONITORED)
def cluster(request: pytest.FixtureRequest, gateway_runs: GatewayRuns) -> Cluster:
    label = str(request.param)
    if label not in _CLUSTERS:
        # A copy: the security tests' cluster (cached there) keeps its own pods.
        shared = cluster_of(label, gateway_runs)
        cluster = Cluster(shared.namespace, shared.provider, shared.policies, dict(shared.pods), shared.nodes)
        config = load_file(SOURCES[label]).config
        ns = config.namespace
        objects = plan_objects(PLANS[label](), stack_kubernetes_version(config))
        network = ipaddress.ip_network(_pod_range(PLANS[label]()))
        (grafana,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "grafana"]
        (prometheus,) = [o for o in objects if o["kind"] == "Prometheus"]
        cluster.pods["grafana"] = pod("grafana", str(network[2001]), ns, grafana["spec"]["template"])
        cluster.pods["prometheus"] = Endpoint("prometheus", str(network[2002]), ns, dict(prometheus["spec"]["podMetadata"]["labels"]),
                                              {"web": PROMETHEUS})
        cluster.pods["kube-state-metrics"] = Endpoint(
            "kube-state-metrics", str(network[2003]), ns,
            {**platform_monitoring.KUBE_STATE_METRICS_SERVICE_LABELS, **values.KUBE_STATE_METRICS_POD_LABELS}, {"http": KSM})
        _CLUSTERS[label] = cluster
    return _CLUSTERS[label]


def _reach(cluster: Cluster, destination: str, port: int) -> set[str]:
    return {role for role in cluster.pods if role != destination and cluster.can(role, destination, port)}


def test_prometheus_reaches_what_it_scrapes(cluster: Cluster) -> None:
    assert cluster.can("prometheus", "hub", HUB)  # z2jh's hub policy: network-access-hub
    assert cluster.can("prometheus", "conda-store", HTTP)  # QHub's conda-store policy: its access label
    assert cluster.can("prometheus", "kube-state-metrics", KSM)
    assert cluster.can("prometheus", "ingress-controller", 9113)
    assert cluster.can("prometheus", "kube-dns", 53, "UDP")


def test_grafana_reaches_the_hub_and_prometheus(cluster: Cluster) -> None:
    assert cluster.can("grafana", "hub", HUB)  # the OAuth token and user look-ups
    assert cluster.can("grafana", "prometheus", PROMETHEUS)


def test_grafana_admits_the_ingress_controller_only(cluster: Cluster) -> None:
    assert _reach(cluster, "grafana", GRAFANA) == {"ingress-controller"}


def test_prometheus_admits_grafana_only(cluster: Cluster) -> None:
    assert _reach(cluster, "prometheus", PROMETHEUS) == {"grafana"}
    assert not allowed(cluster.policies, Endpoint("somewhere", "203.0.113.7"), cluster["prometheus"], PROMETHEUS)


def test_kube_state_metrics_admits_prometheus_only(cluster: Cluster) -> None:
    assert _reach(cluster, "kube-state-metrics", KSM) == {"prometheus"}


def test_user_code_reaches_no_monitoring_pod(cluster: Cluster) -> None:
    for role in ("user-server", "scheduler", "worker", "other-namespace", "plain-pod"):
        for destination, port in (("grafana", GRAFANA), ("prometheus", PROMETHEUS), ("kube-state-metrics", KSM)):
            assert not cluster.can(role, destination, port), f"{role} reaches {destination}:{port}"
