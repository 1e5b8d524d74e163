"""Monitoring: Prometheus and Grafana for one platform, with `monitoring.enabled`.

Creates, in the platform namespace:
- the Secrets `qhub-grafana` (Grafana's admin user and random password, and its OAuth client
  secret, which is the `grafana` hub service's API token) and `qhub-prometheus-hub-token` (the
  token of the `prometheus` hub service, which holds read:metrics), from random Pulumi secrets;
- Prometheus' volume claim (sized `monitoring.storage`, protected, grown in place like the
  claims of storage.*, qhub/platform/disks.py), named as its StatefulSet's replica claims it;
- the releases kube-prometheus-stack (operator, Prometheus with the configured retention, the
  stack's rules and Kubernetes dashboards; CRDs with the release), kube-state-metrics,
  prometheus-node-exporter, and grafana (qhub/values/monitoring.py, qhub/values/grafana.py),
  every pod but node-exporter's on the general group, each with requests;
- QHub's dashboards as ConfigMaps labelled grafana_dashboard: "1" (qhub/values/dashboards);
- what Prometheus scrapes, as custom resources that wait for the stack's release (its CRDs),
  as the ClusterIssuers wait for cert-manager's (qhub/platform/tls.py): ServiceMonitors of the
  hub's /hub/metrics (with the token), conda-store's /metrics, kube-state-metrics (with the
  relabelings dashboards use) and node-exporter; a PodMonitor of the NGINX controller's metrics
  port; and a PrometheusRule with QHub's alerts;
- NetworkPolicies (ingress) for Grafana (from the ingress controller), Prometheus (from Grafana
  and itself) and kube-state-metrics (from Prometheus).

The hub takes `hub` (the two services, and access:services!service=grafana for every user);
the platform's Ingress takes `route` (https://<domain>/monitoring/ to Grafana).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.helm import release
from qhub.platform.checksums import secrets_checksum
from qhub.platform.disks import disk_claim
from qhub.platform.ingress import CONTROLLER_POD_LABELS
from qhub.platform.network_policies import network_policy, pods, tcp
from qhub.values import grafana as grafana_values
from qhub.values import monitoring as values
from qhub.values.dashboards import FOLDER, dashboard_files, for_namespace
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef
from qhub.values.routes import Route
from qhub.versions import GRAFANA_CHART, KUBE_PROMETHEUS_STACK_CHART, KUBE_STATE_METRICS_CHART, NODE_EXPORTER_CHART

PROMETHEUS_HUB_SERVICE = "prometheus"
PROMETHEUS_TOKEN = SecretKeyRef("qhub-prometheus-hub-token", "token")
GRAFANA_CLIENT_SECRET = SecretKeyRef(grafana_values.SECRET_NAME, grafana_values.CLIENT_SECRET_KEY)
MONITORING_API = "monitoring.coreos.com/v1"
# What QHub's monitors find: z2jh's hub Service (port `hub`), QHub's conda-store Service (port
# `http`), the exporters' Services (the charts' selector labels, release name as instance).
HUB_SERVICE_LABELS = {"app": "jupyterhub", "component": "hub", "release": "jupyterhub"}
CONDA_STORE_SERVICE = "conda-store-server"
CONDA_STORE_SERVICE_LABELS = {"app.kubernetes.io/name": "conda-store", "app.kubernetes.io/part-of": "qhub"}
KUBE_STATE_METRICS_SERVICE_LABELS = {"app.kubernetes.io/name": "kube-state-metrics",
                                     "app.kubernetes.io/instance": values.KUBE_STATE_METRICS_RELEASE}
NODE_EXPORTER_SERVICE_LABELS = {"app.kubernetes.io/name": "prometheus-node-exporter",
                                "app.kubernetes.io/instance": values.NODE_EXPORTER_RELEASE}
# The NGINX controller's container port of its metrics (-prometheus-metrics-listen-port).
NGINX_METRICS_PORT = "prometheus"


def alert_rules(namespace: str) -> list[dict[str, Any]]:
    """QHub's alerts (shown in Grafana and Prometheus; Alertmanager is off)."""
    where = f'namespace="{namespace}"'
    return [
        {"alert": "QHubHubDown", "expr": f'up{{job="hub", {where}}} == 0', "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "JupyterHub's /hub/metrics has not answered for 5 minutes: the hub is down or its token is refused."}},
        {"alert": "QHubSpawnsFailing",
         "expr": f'sum(increase(jupyterhub_server_spawn_duration_seconds_count{{status="failure", {where}}}[30m])) > 0',
         "for": "0m", "labels": {"severity": "warning"},
         "annotations": {"summary": "User servers failed to start in the last 30 minutes."}},
        {"alert": "QHubCondaStoreDiskFull",
         "expr": f'conda_store_disk_usage{{{where}}} / conda_store_disk_total{{{where}}} > 0.9', "for": "15m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "conda-store's volume is more than 90% full: grow storage.conda_store."}},
    ]


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Grafana, the exporters, QHub's monitors and dashboards."""

    hub: HubIntegration
    route: Route
    url: str

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, namespace: str, hub_internal_url: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:Monitoring", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        labels = {"app.kubernetes.io/part-of": "qhub", "app.kubernetes.io/component": "monitoring"}

        def meta(object_name: str, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace, labels={**labels, **extra.pop("labels", {})}, **extra)

        random_opts = pulumi.ResourceOptions(parent=self, provider=random.Provider(
            f"{name}-random", opts=pulumi.ResourceOptions(parent=self)))
        client_secret = random.RandomPassword(f"{name}-grafana-client-secret", length=64, special=False, opts=random_opts)
        admin_password = random.RandomPassword(f"{name}-grafana-admin-password", length=40, special=False, opts=random_opts)
        prometheus_token = random.RandomPassword(f"{name}-prometheus-hub-token", length=64, special=False, opts=random_opts)
        grafana_secrets: dict[str, pulumi.Input[str]] = {
            grafana_values.ADMIN_USER_KEY: "admin",
            grafana_values.ADMIN_PASSWORD_KEY: admin_password.result,
            grafana_values.CLIENT_SECRET_KEY: client_secret.result,
        }
        grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-secret", metadata=meta(grafana_values.SECRET_NAME), type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in grafana_secrets.items()}, opts=k8s_opts)
        token_secret = k8s.core.v1.Secret(
            f"{name}-prometheus-token", metadata=meta(PROMETHEUS_TOKEN.name), type="Opaque",
            string_data={PROMETHEUS_TOKEN.key: prometheus_token.result}, opts=k8s_opts)

        monitoring = config.monitoring
        facts = values.MonitoringFacts(
            namespace=namespace, general_selector=cluster.selector("general"),
            node_groups={group: dict(selector) for group, selector in cluster.node_selectors.items()},
            storage_class=cluster.storage_class, retention=monitoring.retention, storage=monitoring.storage)
        # Made before the StatefulSet, which takes it by name; on WaitForFirstConsumer classes it
        # binds only when Prometheus mounts it, so Pulumi does not wait for Bound.
        self.prometheus_claim = disk_claim(
            f"{name}-prometheus-storage", values.PROMETHEUS_CLAIM, namespace, monitoring.storage, None,
            cluster.storage_class, {"labels": labels, "annotations": {"pulumi.com/skipAwait": "true"}}, k8s_opts)
        self.stack = release(
            f"{name}-stack", KUBE_PROMETHEUS_STACK_CHART, values.STACK_RELEASE, namespace,
            values.kube_prometheus_stack_values(facts),
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.prometheus_claim])))
        self.kube_state_metrics = release(
            f"{name}-kube-state-metrics", KUBE_STATE_METRICS_CHART, values.KUBE_STATE_METRICS_RELEASE, namespace,
            values.kube_state_metrics_values(facts), k8s_opts)
        self.node_exporter = release(
            f"{name}-node-exporter", NODE_EXPORTER_CHART, values.NODE_EXPORTER_RELEASE, namespace,
            values.node_exporter_values(facts), k8s_opts)

        dashboards = [
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{file_name.removesuffix('.json')}",
                metadata=meta(f"qhub-dashboard-{file_name.removesuffix('.json')}",
                              labels={grafana_values.DASHBOARD_LABEL: "1"}, annotations={"grafana_folder": FOLDER}),
                data={file_name: for_namespace(text, namespace)}, opts=k8s_opts)
            for file_name, text in dashboard_files().items()
        ]
        grafana_facts = grafana_values.GrafanaFacts(
            domain=config.domain, namespace=namespace, general_selector=cluster.selector("general"),
            prometheus_url=f"http://{values.PROMETHEUS_SERVICE}.{namespace}:{values.PROMETHEUS_PORT}",
            hub_internal_url=hub_internal_url,
            # A rotated client secret or admin password rolls Grafana (qhub/platform/checksums.py).
            secrets_checksum=secrets_checksum(f"{name}-grafana", grafana_secrets, self))
        self.grafana = release(
            f"{name}-grafana", GRAFANA_CHART, grafana_values.RELEASE_NAME, namespace,
            grafana_values.grafana_values(grafana_facts),
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[grafana_secret, *dashboards])))

        # Kinds the stack's CRDs define: created once its release has installed them.
        after_stack = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.stack]))

        def custom(resource_name: str, kind: str, object_name: str, spec: dict[str, Any],
                   opts: pulumi.ResourceOptions = after_stack) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(
                f"{name}-{resource_name}", api_version=MONITORING_API, kind=kind,
                metadata=meta(object_name), spec=spec, opts=opts)

        def service_monitor(resource_name: str, selector: dict[str, str], endpoint: dict[str, Any]) -> k8s.apiextensions.CustomResource:
            return custom(resource_name, "ServiceMonitor", f"qhub-{resource_name}", {
                "selector": {"matchLabels": selector},
                "namespaceSelector": {"matchNames": [namespace]},
                "endpoints": [endpoint],
            })

        self.monitors = [
            # JupyterHub 5.5 answers /hub/metrics only to a token with read:metrics.
            service_monitor("hub", HUB_SERVICE_LABELS, {
                "port": "hub", "path": "/hub/metrics", "interval": "30s",
                "authorization": {"type": "Bearer", "credentials": {"name": PROMETHEUS_TOKEN.name, "key": PROMETHEUS_TOKEN.key}},
            }),
            # conda-store's NFS Service carries the same labels: keep its web server's alone.
            service_monitor("conda-store", CONDA_STORE_SERVICE_LABELS, {
                "port": "http", "path": "/metrics", "interval": "60s",
                "relabelings": [{"sourceLabels": ["__meta_kubernetes_service_name"], "regex": CONDA_STORE_SERVICE, "action": "keep"}],
            }),
            service_monitor("kube-state-metrics", KUBE_STATE_METRICS_SERVICE_LABELS, {
                "port": "http", "interval": "30s", "honorLabels": True,
                "metricRelabelings": values.ksm_relabelings(facts.node_groups),
            }),
            # The stack's node rules and dashboards read job="node-exporter".
            service_monitor("node-exporter", NODE_EXPORTER_SERVICE_LABELS, {
                "port": "metrics", "interval": "30s",
                "relabelings": [{"targetLabel": "job", "replacement": "node-exporter", "action": "replace"},
                                {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "instance", "action": "replace"}],
            }),
            custom("ingress-controller", "PodMonitor", "qhub-ingress-controller", {
                "selector": {"matchLabels": dict(CONTROLLER_POD_LABELS)},
                "namespaceSelector": {"matchNames": [namespace]},
                "podMetricsEndpoints": [{"port": NGINX_METRICS_PORT, "interval": "30s"}],
            }),
            custom("rules", "PrometheusRule", "qhub", {"groups": [{"name": "qhub", "rules": alert_rules(namespace)}]}),
        ]

        prometheus_pods = pods(values.PROMETHEUS_POD_LABELS)
        grafana_pods = pods({"qhub.dev/monitoring": "grafana"})
        self.policies = [
            network_policy(f"{name}-grafana-policy", "qhub-grafana", namespace, {
                "podSelector": {"matchLabels": {"qhub.dev/monitoring": "grafana"}}, "policyTypes": ["Ingress"],
                "ingress": [{"ports": tcp(grafana_values.CONTAINER_PORT), "from": [pods(CONTROLLER_POD_LABELS)]}],
            }, k8s_opts),
            # Queries come from Grafana; Prometheus scrapes itself and its config reloader.
            network_policy(f"{name}-prometheus-policy", "qhub-prometheus", namespace, {
                "podSelector": {"matchLabels": dict(values.PROMETHEUS_POD_LABELS)}, "policyTypes": ["Ingress"],
                "ingress": [{"ports": tcp(values.PROMETHEUS_PORT), "from": [grafana_pods, prometheus_pods]},
                            {"ports": tcp(values.RELOADER_PORT), "from": [prometheus_pods]}],
            }, k8s_opts),
            network_policy(f"{name}-kube-state-metrics-policy", "qhub-kube-state-metrics", namespace, {
                "podSelector": {"matchLabels": dict(values.KUBE_STATE_METRICS_POD_LABELS)}, "policyTypes": ["Ingress"],
                "ingress": [{"ports": tcp(values.KUBE_STATE_METRICS_PORT), "from": [prometheus_pods]}],
            }, k8s_opts),
        ]

        self.hub = HubIntegration(
            services=(
                # Grafana logs users in through the hub: its API token is the OAuth client secret.
                HubService(name=grafana_values.HUB_SERVICE_NAME, api_token=GRAFANA_CLIENT_SECRET,
                           oauth_redirect_uri=grafana_values.redirect_uri(config.domain), oauth_no_confirm=True,
                           display=False, api_token_value=client_secret.result),
                HubService(name=PROMETHEUS_HUB_SERVICE, api_token=PROMETHEUS_TOKEN, display=False, scopes=("read:metrics",),
                           api_token_value=prometheus_token.result),
            ),
            user_scopes=(f"access:services!service={grafana_values.HUB_SERVICE_NAME}",),
        )
        self.route = Route(grafana_values.URL_PREFIX, grafana_values.SERVICE_NAME, grafana_values.SERVICE_PORT, websocket=True)
        self.url = grafana_values.root_url(config.domain)
        self.secrets = [grafana_secret, token_secret]
        self.register_outputs({"url": self.url})
