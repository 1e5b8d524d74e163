"""The platform's one Ingress, as data: every path of `https://<domain>/` and how NGINX serves it.

F5's NGINX Ingress Controller serves a host from a single Ingress unless several are declared
mergeable (a master without paths and minions without TLS), and cert-manager's HTTP-01 solver
would add an Ingress of its own for the same host, which the controller ignores as a duplicate.
So the hub (`/`), conda-store (`/conda-store`) and any later service share one Ingress, and
cert-manager solves the challenge by adding its path to that Ingress (edit in place).
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


def ingress_manifest(domain: str, namespace: str, ingress_class: str, tls_secret: str,
                     cluster_issuer: str | None, routes: Sequence[Route]) -> dict[str, Any]:
    """The Ingress carrying every route, TLS for the domain and host-wide NGINX settings."""
    annotations = {
        "nginx.org/client-max-body-size": MAX_BODY_SIZE,
        "nginx.org/proxy-read-timeout": PROXY_TIMEOUT,
        "nginx.org/proxy-send-timeout": PROXY_TIMEOUT,
    }
    websockets = sorted({route.service for route in routes if route.websocket})
    if websockets:
        annotations["nginx.org/websocket-services"] = ",".join(websockets)
    if cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = cluster_issuer
        # The solver's own Ingress would collide with this one on the controller: add its path here.
        annotations["acme.cert-manager.io/http01-edit-in-place"] = "true"
    # Longest prefix first, as NGINX matches them; "/" last.
    ordered = sorted(routes, key=lambda route: -len(route.path))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": INGRESS_NAME, "namespace": namespace, "annotations": annotations},
        "spec": {
            "ingressClassName": ingress_class,
            "tls": [{"hosts": [domain], "secretName": tls_secret}],
            "rules": [{
                "host": domain,
                "http": {"paths": [{
                    "path": route.path, "pathType": "Prefix",
                    "backend": {"service": {"name": route.service, "port": {"number": route.port}}},
                } for route in ordered]},
            }],
        },
    }
