"""NetworkPolicies of the pods QHub runs itself and of the dask clusters users start.

z2jh's chart fences the hub, the proxy and user servers (hub, proxy and singleuser policies).
These fence the rest, each admitting only its clients:

- conda-store: its web server from the ingress controller (the public `/conda-store` route) and
  from pods labelled `qhub.dev/network-access-conda-store` (in-cluster monitoring); its NFS
  export from the nodes' addresses, since the kubelet mounts NFS volumes from the node (from
  any address where no ipBlock can name the nodes: user servers, dask pods, conda-store and SSH
  cannot send to private addresses, so their own egress keeps them off it). Egress:
  DNS, the hub API, and the internet (conda channels, PyPI), no other private address.
- the in-cluster NFS server of the shared drive: NFS from the nodes' addresses; no egress.
- SSH: its port from anywhere (its load balancer); egress only DNS, the hub and the proxy,
  through which it checks tokens and reaches user servers.
- dask schedulers and workers: from the gateway's proxy (scheduler and dashboard ports), the
  gateway's API server (the scheduler's API port) and other dask pods of the gateway; egress to
  DNS, the gateway's API, other dask pods and the internet, as z2jh lets user servers. A policy
  cannot say "the pod's own cluster": clusters of one gateway may open connections to each
  other, and dask-gateway authenticates them with per-cluster TLS credentials.

Peers are named by the labels the charts put on their pods (tests/test_security_network_policies.py
checks them against the rendered charts and the real dask-gateway controller's pods). Policies
are pure data here; `network_policy` makes the Kubernetes object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import PRIVATE_RANGES
from qhub.values.dask_gateway import RELEASE_NAME as DASK_GATEWAY_RELEASE

# Pod labels of the charts' pods (z2jh 4.4.0's hub and proxy, dask-gateway 2026.3.0 with
# fullnameOverride dask-gateway, F5 nginx-ingress 2.6.4 as release qhub-ingress).
HUB_PODS = {"app": "jupyterhub", "component": "hub", "release": "jupyterhub"}
HUB_PORT = 8081
PROXY_PODS = {"app": "jupyterhub", "component": "proxy", "release": "jupyterhub"}
PROXY_HTTP_PORT = 8000
# The chart's fullname (fullnameOverride), which is also the gateway instance of cluster pods.
DASK_GATEWAY_INSTANCE = DASK_GATEWAY_RELEASE
GATEWAY_API_PODS = {"app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/instance": DASK_GATEWAY_INSTANCE,
                    "app.kubernetes.io/component": "gateway"}
GATEWAY_API_PORT = 8000
GATEWAY_PROXY_PODS = {"app.kubernetes.io/name": "dask-gateway", "app.kubernetes.io/instance": DASK_GATEWAY_INSTANCE,
                      "app.kubernetes.io/component": "traefik"}
# Ports of dask-gateway's scheduler pods (backends/kubernetes/controller.py make_pod).
SCHEDULER_PORT, DASHBOARD_PORT, SCHEDULER_API_PORT = 8786, 8787, 8788

CONDA_STORE_ACCESS_LABEL = "qhub.dev/network-access-conda-store"
"""Pods with this label "true" may reach conda-store's web server (its /metrics) in the cluster."""

CLOUD_METADATA = "169.254.169.254/32"
DNS_PORTS = ({"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"})


def pods(labels: Mapping[str, str]) -> dict[str, Any]:
    """A peer: pods of the policy's namespace with these labels."""
    return {"podSelector": {"matchLabels": dict(labels)}}


def dask_cluster_selector() -> dict[str, Any]:
    """Schedulers and workers of QHub's gateway (the labels its controller gives their pods)."""
    return {
        "matchLabels": {"app.kubernetes.io/name": "dask-gateway", "gateway.dask.org/instance": DASK_GATEWAY_INSTANCE},
        "matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In",
                              "values": ["dask-scheduler", "dask-worker"]}],
    }


def tcp(*ports: int | str) -> list[dict[str, Any]]:
    return [{"port": port, "protocol": "TCP"} for port in ports]


def dns_egress() -> dict[str, Any]:
    """DNS where z2jh's user-pod policy allows it: kube-system, private addresses (node-local
    caches, VPC resolvers) and the cloud metadata server, on port 53 only."""
    return {"ports": [dict(port) for port in DNS_PORTS], "to": [
        {"ipBlock": {"cidr": CLOUD_METADATA}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}},
        *({"ipBlock": {"cidr": cidr}} for cidr in PRIVATE_RANGES),
    ]}


def internet_egress() -> dict[str, Any]:
    """Any public address: no private range (other pods, nodes, NFS) and no metadata server."""
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [*PRIVATE_RANGES, CLOUD_METADATA]}}]}


def from_nodes(node_cidrs: Sequence[pulumi.Input[str]], *ports: int) -> dict[str, Any]:
    """NFS mounts: the kubelet connects from the node's own address, which no pod selector names.
    Without known node ranges (ClusterOutputs.node_cidrs), the ports are open to any address."""
    rule: dict[str, Any] = {"ports": tcp(*ports)}
    if node_cidrs:
        rule["from"] = [{"ipBlock": {"cidr": cidr}} for cidr in node_cidrs]
    return rule


def policy_spec(pod_selector: Mapping[str, Any], ingress: Sequence[Mapping[str, Any]],
                egress: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Both directions isolated: only the rules given are allowed (no egress rule: none)."""
    return {"podSelector": dict(pod_selector), "policyTypes": ["Ingress", "Egress"],
            "ingress": [dict(rule) for rule in ingress], "egress": [dict(rule) for rule in egress]}


def conda_store_spec(pod_labels: Mapping[str, str], http_port: int, nfs_port: int,
                     node_cidrs: Sequence[pulumi.Input[str]], ingress_controller: Mapping[str, str]) -> dict[str, Any]:
    return policy_spec(
        {"matchLabels": dict(pod_labels)},
        ingress=[
            # The public route goes through the controller; in-cluster readers carry the label.
            {"ports": tcp(http_port), "from": [pods(ingress_controller), pods({CONDA_STORE_ACCESS_LABEL: "true"})]},
            from_nodes(node_cidrs, nfs_port),
        ],
        # The OAuth token and user look-ups go to the hub; builds download from the internet.
        egress=[dns_egress(), {"ports": tcp(HUB_PORT), "to": [pods(HUB_PODS)]}, internet_egress()],
    )


def nfs_server_spec(pod_labels: Mapping[str, str], nfs_port: int, node_cidrs: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    # NFSv4.1 answers on the clients' own connections: the server opens none.
    return policy_spec({"matchLabels": dict(pod_labels)}, ingress=[from_nodes(node_cidrs, nfs_port)], egress=[])


def ssh_spec(pod_labels: Mapping[str, str], ports: Sequence[int | str]) -> dict[str, Any]:
    return policy_spec(
        {"matchLabels": dict(pod_labels)},
        # Users connect through the load balancer from anywhere; only the server's port.
        ingress=[{"ports": tcp(*ports)}],
        # Tokens are checked with the hub (directly and through the proxy, hubUrl), terminals
        # and files are reached through the proxy; nothing else.
        egress=[dns_egress(), {"ports": tcp(HUB_PORT), "to": [pods(HUB_PODS)]},
                {"ports": tcp(PROXY_HTTP_PORT), "to": [pods(PROXY_PODS)]}],
    )


def dask_cluster_spec() -> dict[str, Any]:
    cluster_pods = {"podSelector": dask_cluster_selector()}
    return policy_spec(
        dask_cluster_selector(),
        ingress=[
            # Clients' scheduler connections (TLS, routed by SNI) and dashboards, via the proxy.
            {"ports": tcp(SCHEDULER_PORT, DASHBOARD_PORT), "from": [pods(GATEWAY_PROXY_PODS)]},
            # The gateway asks schedulers for their state and to scale.
            {"ports": tcp(SCHEDULER_API_PORT), "from": [pods(GATEWAY_API_PODS)]},
            # Schedulers and workers talk on ports the workers pick.
            {"from": [cluster_pods]},
        ],
        egress=[
            dns_egress(),
            # Schedulers report to the gateway's API (heartbeats, adaptive scaling).
            {"ports": tcp(GATEWAY_API_PORT), "to": [pods(GATEWAY_API_PODS)]},
            {"to": [cluster_pods]},
            internet_egress(),
        ],
    )


def network_policy(name: str, policy_name: str, namespace: pulumi.Input[str], spec: Mapping[str, Any],
                   opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
    """The NetworkPolicy object `policy_name` in the platform namespace."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=policy_name, namespace=namespace, labels={"app.kubernetes.io/part-of": "qhub"}),
        spec=dict(spec),  # type: ignore[arg-type]
        opts=opts,
    )
