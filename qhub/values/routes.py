"""The platform's Ingresses, as data: every path of `https://<domain>/` and how NGINX serves it.

F5's NGINX Ingress Controller serves a host from one Ingress, unless the host's Ingresses are
mergeable: one master (the host, TLS and host-wide settings, no paths) and minions (paths, no
TLS) that the controller merges into one server (`nginx.org/mergeable-ingress-type`). QHub
owns the master and one minion per route (the hub at `/`, conda-store, any later service).
cert-manager's HTTP-01 solver adds a minion of its own for the challenge path (the
ClusterIssuer's `ingressTemplate`, qhub/values/cert_manager.py), so cert-manager never edits an
object Pulumi owns: an issuance or a renewal during `pulumi up` is not undone by it.

What goes where follows the controller's rules (internal/configs/annotations.go@v5.5.4):
`nginx.org/websocket-services` is refused on a master, so each minion names its own service;
body size and proxy timeouts on the master are inherited by every minion (minionInheritanceList),
including the solver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# JupyterLab uploads travel base64-encoded inside JSON; nginx's 1m default breaks files > ~750 kB.
MAX_BODY_SIZE = "10g"
# Kernels and terminals are long-lived WebSockets; nginx's 60s default would cut idle ones.
PROXY_TIMEOUT = "3600s"
INGRESS_NAME = "qhub"


@dataclass(frozen=True)
class Route:
    """One path prefix of the platform's host and the Service behind it."""

    path: str
    service: str
    port: int
    websocket: bool = False
    """NGINX forwards the Upgrade header only to the services the Ingress names."""
    namespace: str | None = None
    """The Service's namespace, where its minion goes; None: the platform's. Mergeable minions
    may live in other namespaces than their master."""
    name: str | None = None
    """The minion's name after the master's (`qhub-<name>`); None: the service's."""


MERGEABLE_TYPE = "nginx.org/mergeable-ingress-type"
# What turns cert-manager's solver Ingress into a minion of the host's master.
SOLVER_ANNOTATIONS = {MERGEABLE_TYPE: "minion"}


def minion_name(route: Route) -> str:
    """The Ingress name of a route's minion: the master's name and the route's name or service."""
    return f"{INGRESS_NAME}-{route.name or route.service}"


def ingress_manifests(domain: str, namespace: str, ingress_class: str, tls_secret: str,
                      cluster_issuer: str | None, routes: Sequence[Route]) -> list[dict[str, Any]]:
    """The master Ingress of the host (TLS, issuer, host-wide settings), then one minion per route."""
    annotations = {
        MERGEABLE_TYPE: "master",
        "nginx.org/client-max-body-size": MAX_BODY_SIZE,
        "nginx.org/proxy-read-timeout": PROXY_TIMEOUT,
        "nginx.org/proxy-send-timeout": PROXY_TIMEOUT,
    }
    if cluster_issuer:
        # cert-manager's ingress-shim makes the Certificate for the master's TLS section.
        annotations["cert-manager.io/cluster-issuer"] = cluster_issuer
    master = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": INGRESS_NAME, "namespace": namespace, "annotations": annotations},
        "spec": {
            "ingressClassName": ingress_class,
            "tls": [{"hosts": [domain], "secretName": tls_secret}],
            "rules": [{"host": domain}],
        },
    }
    minions = []
    for route in routes:
        minion_annotations = {MERGEABLE_TYPE: "minion"}
        if route.websocket:
            minion_annotations["nginx.org/websocket-services"] = route.service
        minions.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": minion_name(route), "namespace": route.namespace or namespace, "annotations": minion_annotations},
            "spec": {
                "ingressClassName": ingress_class,
                "rules": [{"host": domain, "http": {"paths": [{
                    "path": route.path, "pathType": "Prefix",
                    "backend": {"service": {"name": route.service, "port": {"number": route.port}}},
                }]}}],
            },
        })
    if len({m["metadata"]["name"] for m in minions}) != len(minions):
        raise ValueError("two routes go to one service; give each route its own minion")
    return [master, *minions]
