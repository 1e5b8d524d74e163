"""IngressController: F5's NGINX Ingress Controller and its cloud load balancer.

Creates: the `nginx-ingress` Helm release (IngressClass, controller Deployment, LoadBalancer
Service with the annotations ClusterOutputs gives, on the cloud's reserved static IP where it
has one), and reads that Service back for the load balancer's address (the DNS record of the
domain points at it).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.helm import release
from qhub.values.nginx_ingress import CONTROLLER_SERVICE, nginx_ingress_values
from qhub.versions import NGINX_INGRESS_CHART

RELEASE_NAME = "qhub-ingress"
CONTROLLER_POD_LABELS = {"app.kubernetes.io/name": "nginx-ingress", "app.kubernetes.io/instance": RELEASE_NAME}
"""Labels the chart gives the controller's pods: the peer that services behind the Ingress admit."""


class IngressController(pulumi.ComponentResource):
    """The NGINX controller serving the platform's IngressClass."""

    ingress_class: str
    """IngressClass every platform Ingress names in spec.ingressClassName."""
    address: pulumi.Output[str]
    """Hostname or IP of the load balancer ("" until the cloud has assigned one)."""
    address_is_ip: pulumi.Output[bool]
    """Whether `address` is an IP (A record) rather than a hostname (CNAME)."""

    def __init__(self, name: str, namespace: str, cluster: ClusterOutputs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:IngressController", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        # One class per namespace, so a second platform on the same cluster gets its own.
        self.ingress_class = f"nginx-{namespace}"
        # Where the cloud reserved a static IP, the Service takes it (and waits until it may).
        reserved = cluster.ingress_address
        annotations = {**cluster.ingress_service_annotations, **(reserved.service_annotations if reserved else {})}
        self.release = release(
            f"{name}-release", NGINX_INGRESS_CHART, RELEASE_NAME, namespace,
            nginx_ingress_values(self.ingress_class, cluster.selector("general"), annotations,
                                 reserved.ip if reserved and reserved.by_address else None),
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=list(reserved.ready) if reserved else [])),
            # Custom resources are off (values), so the chart's VirtualServer CRDs are not needed.
            skip_crds=True,
        )
        # The id depends on the release's status, which is unknown while previewing a new stack,
        # so the read happens only once the release (and with it the Service) exists.
        service_id = self.release.status.apply(lambda status: f"{status.namespace}/{CONTROLLER_SERVICE}")
        self.service = k8s.core.v1.Service.get(f"{name}-service", service_id, opts=k8s_opts)
        ingress = self.service.status.apply(
            lambda status: (status.load_balancer.ingress or [None])[0] if status and status.load_balancer else None
        )
        self.address = ingress.apply(lambda entry: (entry.hostname or entry.ip or "") if entry else "")
        self.address_is_ip = ingress.apply(lambda entry: bool(entry and entry.ip and not entry.hostname))
        self.register_outputs({"ingress_class": self.ingress_class, "address": self.address})
