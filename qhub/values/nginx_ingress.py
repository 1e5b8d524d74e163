"""Values of F5's `nginx-ingress` chart (NGINX Ingress Controller 5.5.x): one controller per stack.

Pure function: (config facts) -> dict. The community ingress-nginx chart was retired in March
2026; this controller reads `nginx.org/*` annotations, not `nginx.ingress.kubernetes.io/*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The controller's Service, named so the platform can read its load balancer address.
CONTROLLER_SERVICE = "qhub-ingress-nginx"
# Global fallbacks for every Ingress of this class (the hub's Ingress also sets them itself):
# uploads of large notebooks and long-lived kernel WebSockets.
CONFIG_ENTRIES = {
    "client-max-body-size": "10g",
    "proxy-read-timeout": "3600s",
    "proxy-send-timeout": "3600s",
}


def nginx_ingress_values(
    ingress_class: str, node_selector: Mapping[str, str], service_annotations: Mapping[str, str],
    load_balancer_ip: object | None = None,
) -> dict[str, Any]:
    """Values of the controller serving `ingress_class` from the general node group; its load
    balancer takes `load_balancer_ip` (a reserved static IP, or an Output of one) when given."""
    service: dict[str, Any] = {
        "name": CONTROLLER_SERVICE,
        "type": "LoadBalancer",
        "annotations": dict(service_annotations),
    }
    if load_balancer_ip is not None:
        service["loadBalancerIP"] = load_balancer_ip
    return {
        "controller": {
            "kind": "deployment",
            "replicaCount": 1,
            "nodeSelector": dict(node_selector),
            # The controller serves only Ingresses of its own class, so several platforms (or
            # another controller) can share a cluster; the class is not made the cluster default.
            "ingressClass": {"name": ingress_class, "create": True, "setAsDefaultIngress": False},
            # Plain Ingress resources only: no VirtualServer CRDs to install and upgrade by hand.
            "enableCustomResources": False,
            "enableSnippets": False,
            "config": {"entries": dict(CONFIG_ENTRIES)},
            "service": service,
            # Writes the load balancer address into each Ingress's status.
            "reportIngressStatus": {"enable": True},
        },
    }
