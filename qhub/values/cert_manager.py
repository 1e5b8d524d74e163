"""Values of the jetstack `cert-manager` chart, and the specs of QHub's ClusterIssuers.

Pure functions: (facts) -> dict. The CRDs are templates of the release (`crds.enabled`), so
they upgrade with it; `crds.keep` keeps them (and every Certificate) if the release is removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qhub.values.routes import SOLVER_ANNOTATIONS

# Requests of cert-manager's pods on general (without them they are the first evicted when a
# node runs short), with memory limits well above what they use at rest.
CONTROLLER_RESOURCES = {"requests": {"cpu": "20m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
CAINJECTOR_RESOURCES = {"requests": {"cpu": "20m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
WEBHOOK_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}

LETS_ENCRYPT_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


def cert_manager_values(node_selector: Mapping[str, str]) -> dict[str, Any]:
    """Values of cert-manager with its CRDs, every pod on the general node group."""
    selector = dict(node_selector)
    return {
        "crds": {"enabled": True, "keep": True},
        "nodeSelector": selector,
        "resources": CONTROLLER_RESOURCES,
        "webhook": {"nodeSelector": selector, "resources": WEBHOOK_RESOURCES},
        "cainjector": {"nodeSelector": selector, "resources": CAINJECTOR_RESOURCES},
        "startupapicheck": {"nodeSelector": selector},
    }


def acme_issuer_spec(server: str, account_secret: str, ingress_class: str, email: str | None) -> dict[str, Any]:
    """A Let's Encrypt ClusterIssuer answering HTTP-01 challenges through the NGINX ingress."""
    acme: dict[str, Any] = {
        "server": server,
        "privateKeySecretRef": {"name": account_secret},
        # The solver's Ingress joins the host's mergeable master as a minion (qhub/values/routes.py).
        "solvers": [{"http01": {"ingress": {
            "ingressClassName": ingress_class,
            "ingressTemplate": {"metadata": {"annotations": dict(SOLVER_ANNOTATIONS)}},
        }}}],
    }
    if email:
        acme["email"] = email
    return {"acme": acme}


def self_signed_issuer_spec() -> dict[str, Any]:
    """A ClusterIssuer that signs each certificate with its own key (test and private stacks)."""
    return {"selfSigned": {}}
