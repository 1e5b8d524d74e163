"""Mock answers of the DigitalOcean provider: UUIDs, the DOKS kubeconfig, version slugs.

A DOKS cluster's `kubeConfigs[0].rawConfig` is a YAML kubeconfig with a bearer token, as the
API returns it; versions are slugs like `1.35.1-do.0`.
"""

from __future__ import annotations

import base64
from typing import Any

from qhub.offline.mocks import fake_id


def _uuid(name: str) -> str:
    h = fake_id(name, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _nodes(name: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": _uuid(f"{name}-node-{i}"), "name": f"{name}-{fake_id(f'{name}{i}', 5)}", "status": "running",
         "dropletId": str(400000000 + int(fake_id(f"{name}{i}", 6), 16)), "createdAt": "2026-11-22T10:00:00Z"}
        for i in range(count)
    ]


def _vpc(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    vpc_id = _uuid(name)
    return {"__id": vpc_id, "urn": f"do:vpc:{vpc_id}", "ipRange": inputs.get("ipRange") or "10.116.0.0/20",
            "default": False, "createdAt": "2026-11-22T10:00:00Z"}


def _raw_config(cluster: str, cluster_id: str, endpoint: str, region: str) -> str:
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nMIID{fake_id(cluster_id, 60)}\n-----END CERTIFICATE-----\n".encode()).decode()
    context = f"do-{region}-{cluster}"
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {endpoint}\n  name: {context}\n"
        f"contexts:\n- context:\n    cluster: {context}\n    user: {context}-admin\n  name: {context}\n"
        f"current-context: {context}\n"
        f"users:\n- name: {context}-admin\n  user:\n    token: dop_v1_{fake_id(cluster_id, 64)}\n"
    )


def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster_id = _uuid(name)
    endpoint = f"https://{cluster_id}.k8s.ondigitalocean.com"
    cluster = str(inputs.get("name") or name)
    region = str(inputs.get("region") or "nyc3")
    pool = dict(inputs.get("nodePool") or {})
    count = int(pool.get("minNodes") or pool.get("nodeCount") or 1)
    pool.update({"id": _uuid(name + "pool"), "actualNodeCount": count, "nodeCount": count, "nodes": _nodes(name, count)})
    number = int(fake_id(name, 4), 16)
    return {
        "__id": cluster_id,
        "endpoint": endpoint,
        "ipv4Address": f"164.90.{number >> 8 & 0xFF}.{number & 0xFF}",
        "clusterSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.245.0.0/16",
        "status": "running",
        "urn": f"do:kubernetes:{cluster_id}",
        "nodePool": pool,
        "kubeConfigs": [{
            "rawConfig": _raw_config(cluster, cluster_id, endpoint, region),
            "host": endpoint,
            "clusterCaCertificate": base64.b64encode(f"ca-{cluster_id}".encode()).decode(),
            "token": f"dop_v1_{fake_id(cluster_id, 64)}",
            "expiresAt": "2026-11-29T10:00:00Z",
        }],
        "createdAt": "2026-11-22T10:00:00Z",
        "updatedAt": "2026-11-22T10:00:00Z",
    }


def _node_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    count = int(inputs.get("minNodes") or inputs.get("nodeCount") or 0)
    return {"__id": _uuid(name), "actualNodeCount": count, "nodeCount": count, "nodes": _nodes(name, count)}


def _registry(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    registry = str(inputs.get("name") or name)
    return {
        "__id": registry, "endpoint": f"registry.digitalocean.com/{registry}", "serverUrl": "registry.digitalocean.com",
        "region": inputs.get("region") or "nyc3", "storageUsageBytes": 0, "createdAt": "2026-11-22T10:00:00Z",
    }


def _versions(args: dict[str, Any]) -> dict[str, Any]:
    """The DOKS builds matching the prefix, newest first (a 1.35 minor has 1.35.1 and 1.35.0)."""
    prefix = str(args.get("versionPrefix") or "")
    if prefix.endswith("-"):  # a full version: its DOKS builds
        slugs = [f"{prefix}do.1", f"{prefix}do.0"]
    else:
        base = prefix.rstrip(".") or "1.35"
        slugs = [f"{base}.1-do.0", f"{base}.0-do.2"]
    return {"id": prefix, "versionPrefix": prefix, "latestVersion": slugs[0], "validVersions": slugs}


def _cluster_data(args: dict[str, Any]) -> dict[str, Any]:
    """get_kubernetes_cluster: the cluster of that name, with a kubeconfig made for this read."""
    name = str(args.get("name") or "cluster")
    cluster = _cluster(name, {"name": name})
    cluster["kubeConfigs"][0]["expiresAt"] = "2026-11-23T10:00:00Z"  # kubeconfigExpireSeconds after now
    return {**{k: v for k, v in cluster.items() if k != "__id"}, "id": cluster["__id"], "name": name}


def _dns_record(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    relative, domain = str(inputs.get("name") or "@"), str(inputs.get("domain"))
    return {"__id": str(300000000 + int(fake_id(name, 6), 16)), "fqdn": domain if relative == "@" else f"{relative}.{domain}"}


RESOURCES = {
    "digitalocean:index/vpc:Vpc": _vpc,
    "digitalocean:index/kubernetesCluster:KubernetesCluster": _cluster,
    "digitalocean:index/kubernetesNodePool:KubernetesNodePool": _node_pool,
    "digitalocean:index/containerRegistry:ContainerRegistry": _registry,
    "digitalocean:index/dnsRecord:DnsRecord": _dns_record,
}
CALLS = {
    "digitalocean:index/getKubernetesVersions:getKubernetesVersions": _versions,
    "digitalocean:index/getKubernetesCluster:getKubernetesCluster": _cluster_data,
}
