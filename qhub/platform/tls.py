"""CertManager: cert-manager and the ClusterIssuers that give `domain` its certificate.

Creates: the `cert-manager` Helm release (with its CRDs, `crds.enabled`), and ClusterIssuers
for Let's Encrypt production, Let's Encrypt staging and self-signed certificates. The hub's
Ingress names the issuer of the configured `certificate.type` (cert-manager's ingress-shim then
makes the Certificate); `existing` uses the named Secret and no issuer.

Ordering on a fresh stack. The ClusterIssuer kind exists only once the release has installed
its CRDs, so the issuers are separate CustomResources that depend on the release (not chart
`extraObjects`, which Helm cannot map in the same install: cert-manager#4596, #7096):
  - `pulumi preview`: pulumi-kubernetes 4.x (provider.go, Check and Create) treats a kind the
    API server does not know as "probably a CustomResource whose CRD is not registered yet":
    Check assumes it is namespaced instead of failing, and a preview of Create skips the
    server-side dry run when the GVK does not exist (`gvkExists`), returning the inputs as
    planned. So the preview plans the issuers without the CRDs.
  - `pulumi up`: depends_on makes the issuers wait until the release is deployed; the release
    waits for the webhook Deployment to be ready (Helm wait, skipAwait off) and cert-manager's
    startupapicheck job, so the webhook that validates issuers answers by then (cert-manager#2908).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.config.model import Certificate
from qhub.helm import release
from qhub.values.cert_manager import LETS_ENCRYPT_SERVERS, acme_issuer_spec, cert_manager_values, self_signed_issuer_spec
from qhub.versions import CERT_MANAGER_CHART

# certificate.type -> the issuer role below.
ISSUER_OF_TYPE = {"lets-encrypt": "production", "lets-encrypt-staging": "staging", "self-signed": "self-signed"}


class CertManager(pulumi.ComponentResource):
    """cert-manager with QHub's ClusterIssuers."""

    issuer_names: dict[str, str]
    """ClusterIssuer name by role: production, staging, self-signed."""
    cluster_issuer: str | None
    """The issuer of the configured certificate type (None for an existing certificate)."""
    tls_secret: str
    """The Secret the hub's Ingress serves (cert-manager's, or the existing one)."""

    def __init__(self, name: str, namespace: str, certificate: Certificate, ingress_class: str,
                 cluster: ClusterOutputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:CertManager", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        self.release = release(
            f"{name}-release", CERT_MANAGER_CHART, "cert-manager", namespace,
            cert_manager_values(cluster.selector("general")), k8s_opts,
        )
        # ClusterIssuers are cluster-wide; the namespace keeps two platforms on one cluster apart.
        self.issuer_names = {role: f"{namespace}-{role if role == 'self-signed' else 'letsencrypt-' + role}"
                             for role in ("production", "staging", "self-signed")}
        specs: dict[str, dict[str, Any]] = {
            role: acme_issuer_spec(LETS_ENCRYPT_SERVERS[role], f"{self.issuer_names[role]}-account", ingress_class, certificate.acme_email)
            for role in ("production", "staging")
        }
        specs["self-signed"] = self_signed_issuer_spec()
        issuer_opts = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.release]))
        self.issuers = {
            role: k8s.apiextensions.CustomResource(
                f"{name}-issuer-{role}",
                api_version="cert-manager.io/v1",
                kind="ClusterIssuer",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=self.issuer_names[role]),
                spec=spec,
                opts=issuer_opts,
            )
            for role, spec in specs.items()
        }
        role = ISSUER_OF_TYPE.get(certificate.type)
        self.cluster_issuer = self.issuer_names[role] if role else None
        self.tls_secret = certificate.secret_name if certificate.type == "existing" and certificate.secret_name else "qhub-tls"
        self.register_outputs({"cluster_issuer": self.cluster_issuer, "tls_secret": self.tls_secret})
