"""Mock answers of the Kubernetes provider: what the API server and Helm fill in.

A LoadBalancer Service (created or read back) gets what the cloud's load balancers give: the
address it asked for (spec.loadBalancerIP, or an Azure public IP by name), an IP on clouds whose load balancers have IPs
(DigitalOcean, Azure: told apart by the Service's annotations), else a hostname (AWS, and the
default for existing clusters). A read carries no inputs, so the ingress controller's Service is
answered from what its Helm release asked for. A ClusterIP Service gets a cluster IP, a Helm
release its status, and every object a uid.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from qhub.offline.mocks import fake_id


def _metadata(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", name)
    metadata["uid"] = f"{fake_id(name, 8)}-{fake_id(name + 'a', 4)}-{fake_id(name + 'b', 4)}-{fake_id(name + 'c', 4)}-{fake_id(name + 'd', 12)}"
    return metadata


def _cluster_ip(name: str) -> str:
    return str(ipaddress.ip_address("10.100.0.0") + int(fake_id(name, 4), 16))


# Annotation prefixes of the clouds whose load balancers have an IP rather than a hostname.
_IP_LOAD_BALANCER_ANNOTATIONS = ("service.beta.kubernetes.io/do-loadbalancer-", "service.beta.kubernetes.io/azure-")
# The LoadBalancer Service the last release with one asked for: what a read of it answers.
_released_service: dict[str, Any] = {}


def _load_balancer(name: str, service: dict[str, Any]) -> dict[str, Any]:
    """The status.loadBalancer.ingress entry of a LoadBalancer Service with this spec and annotations."""
    if service.get("loadBalancerIP"):
        return {"ip": service["loadBalancerIP"]}
    from qhub.offline.mock_outputs.azure import PUBLIC_IPS  # a public IP named by annotation (AKS)
    named = PUBLIC_IPS.get((service.get("annotations") or {}).get("service.beta.kubernetes.io/azure-pip-name", ""))
    if named:
        return {"ip": named}
    if any(key.startswith(_IP_LOAD_BALANCER_ANNOTATIONS) for key in service.get("annotations") or {}):
        number = int(fake_id(name + "ip", 4), 16)
        return {"ip": f"198.51.100.{number % 250 + 2}"}
    return {"hostname": f"a{fake_id(name, 31)}-{int(fake_id(name + 'n', 6), 16) % 10**10}.elb.offline.example.com"}


def _service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    spec = dict(inputs.get("spec") or {})
    # A read (Service.get) carries no inputs: it reads the ingress controller's LoadBalancer.
    kind = spec.get("type") or ("LoadBalancer" if not inputs else "ClusterIP")
    spec.setdefault("type", kind)
    spec.setdefault("clusterIP", _cluster_ip(name))
    status: dict[str, Any] = {"loadBalancer": {}}
    if kind == "LoadBalancer":
        asked = {**spec, "annotations": (inputs.get("metadata") or {}).get("annotations")} if inputs else _released_service
        status = {"loadBalancer": {"ingress": [_load_balancer(name, asked)]}}
    return {"metadata": _metadata(name, inputs), "spec": spec, "status": status}


def _release(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    values = inputs.get("values") or {}
    service = (values.get("controller") or {}).get("service") if isinstance(values, dict) else None
    if isinstance(service, dict) and service.get("type") == "LoadBalancer":
        _released_service.clear()
        _released_service.update(service)
    return {
        "status": {
            "name": inputs.get("name") or name,
            "namespace": inputs.get("namespace") or "default",
            "chart": inputs.get("chart"),
            "version": inputs.get("version"),
            "revision": 1,
            "status": "deployed",
        },
    }


def _object(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": _metadata(name, inputs)}


RESOURCES = {
    "kubernetes:core/v1:Service": _service,
    "kubernetes:helm.sh/v3:Release": _release,
    "kubernetes:core/v1:Namespace": _object,
    "kubernetes:core/v1:PersistentVolume": _object,
    "kubernetes:core/v1:PersistentVolumeClaim": _object,
    "kubernetes:core/v1:Secret": _object,
    "kubernetes:apps/v1:Deployment": _object,
}
CALLS: dict[str, Any] = {}
