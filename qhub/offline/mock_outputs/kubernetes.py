"""Mock answers of the Kubernetes provider: what the API server and Helm fill in.

A LoadBalancer Service (created or read back) gets a cloud load balancer hostname, a ClusterIP
Service a cluster IP, a Helm release its status, and every object a uid.
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


def _service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    spec = dict(inputs.get("spec") or {})
    # A read (Service.get) carries no inputs: it reads the ingress controller's LoadBalancer.
    kind = spec.get("type") or ("LoadBalancer" if not inputs else "ClusterIP")
    spec.setdefault("type", kind)
    spec.setdefault("clusterIP", _cluster_ip(name))
    status: dict[str, Any] = {"loadBalancer": {}}
    if kind == "LoadBalancer":
        host = f"a{fake_id(name, 31)}-{int(fake_id(name + 'n', 6), 16) % 10**10}.elb.offline.example.com"
        status = {"loadBalancer": {"ingress": [{"hostname": host}]}}
    return {"metadata": _metadata(name, inputs), "spec": spec, "status": status}


def _release(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
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
