"""Mock answers for Kubernetes objects whose outputs the cluster fills in (Service addresses)."""

from __future__ import annotations

from typing import Any

from qhub.offline.mocks import fake_id


def _service(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A Service gets a ClusterIP; a LoadBalancer one also gets the cloud's hostname."""
    spec = dict(inputs.get("spec") or {})
    digest = int(fake_id(name, 4), 16)
    spec.setdefault("clusterIP", f"10.100.{digest >> 8}.{digest & 0xFF}")
    outputs: dict[str, Any] = {"spec": spec}
    if spec.get("type") == "LoadBalancer":
        outputs["status"] = {"loadBalancer": {"ingress": [{"hostname": f"a{fake_id(name, 31)}.elb.offline.example"}]}}
    return outputs


RESOURCES = {"kubernetes:core/v1:Service": _service}
CALLS: dict[str, Any] = {}
