"""The starter QHub document `qhub init <provider>` writes: a small, working, cheap stack.

Pure data, no Pulumi import. The shape mirrors stacks/staging.yaml; node groups are sized so an
idle stack runs one general node and nothing else (user and worker groups scale from zero).
The CLI fills in `security.authentication` and `ci_cd` from its flags.
"""

from __future__ import annotations

import hashlib
from typing import Any

from qhub.versions import DEFAULT_KUBERNETES_VERSION, DASK_GATEWAY_CHART

# A region per cloud where every machine type below is offered.
DEFAULT_REGIONS = {"aws": "us-west-2", "gcp": "us-central1", "do": "nyc3", "azure": "eastus"}
# (general, user and worker) machine types: 4 vCPU / 16 GB general purpose on every cloud. The
# general node runs the whole platform day and night, monitoring included; with every pod's
# requests counted, 2 vCPU / 8 GB (AWS) or 8 GB (DigitalOcean) no longer fits it
# (tests/test_general_capacity.py).
MACHINES = {
    "aws": ("m6i.xlarge", "m6i.xlarge", "m6i.xlarge"),
    "gcp": ("e2-standard-4", "e2-standard-4", "e2-standard-4"),
    "do": ("g-4vcpu-16gb", "g-4vcpu-16gb", "g-4vcpu-16gb"),
    "azure": ("Standard_D4s_v5", "Standard_D4s_v5", "Standard_D4s_v5"),
}
PROVIDER_BLOCKS = {"aws": "amazon_web_services", "gcp": "google_cloud_platform", "do": "digital_ocean", "azure": "azure"}


def _node_groups(provider: str) -> dict[str, dict[str, Any]]:
    general, user, worker = MACHINES[provider]
    return {
        "general": {"instance": general, "min_nodes": 1, "max_nodes": 1},
        "user": {"instance": user, "min_nodes": 0, "max_nodes": 4},
        "worker": {"instance": worker, "min_nodes": 0, "max_nodes": 6},
    }


def _gcp_project(project_name: str) -> str:
    """A placeholder GCP project id that passes validation; replace it with the real one."""
    return f"{project_name[:25].rstrip('-')}-gcp-id"


def cloud_block(provider: str, project_name: str, domain: str, region: str | None, gcp_project: str | None = None) -> dict[str, Any]:
    """The provider's block of the starter document."""
    if provider == "existing":
        linux = {"key": "kubernetes.io/os", "value": "linux"}
        return {
            "kube_context": None,
            "storage_class": "standard",
            "node_selectors": {"general": dict(linux), "user": dict(linux), "worker": dict(linux)},
        }
    block: dict[str, Any] = {"region": region or DEFAULT_REGIONS[provider]}
    if provider == "gcp":
        block["project"] = gcp_project or _gcp_project(project_name)
    if provider == "azure":
        # Registry and storage names are global on Azure; this keeps them unique per stack.
        block["storage_account_postfix"] = hashlib.sha256(f"{project_name}/{domain}".encode()).hexdigest()[:6]
    block["kubernetes_version"] = DEFAULT_KUBERNETES_VERSION
    block["node_groups"] = _node_groups(provider)
    return block


def starter_config(provider: str, project_name: str, domain: str, region: str | None = None,
                   gcp_project: str | None = None, admin_user: str = "admin") -> dict[str, Any]:
    """The whole starter QHub document for a provider (aws, gcp, do, azure or existing)."""
    block_key = PROVIDER_BLOCKS.get(provider, provider)
    dask = DASK_GATEWAY_CHART.version
    return {
        "project_name": project_name,
        "provider": provider,
        "ci_cd": {"type": "github-actions", "branch": "main"},
        "domain": domain,
        "namespace": "dev",
        "certificate": {"type": "lets-encrypt"},
        "security": {
            "authentication": {"type": "password"},
            # One hub admin, so the stack can be logged into; add the team here.
            "users": {admin_user: {"uid": 10000001, "primary_group": "admin"}},
            "groups": {"users": {"gid": 10000100}, "admin": {"gid": 10000101}},
        },
        block_key: cloud_block(provider, project_name, domain, region, gcp_project),
        "storage": {"conda_store": "50Gi", "shared_filesystem": "100Gi"},
        "profiles": {
            "jupyterlab": [
                {"display_name": "Small Instance", "description": "1 CPU / 4 GB", "default": True,
                 "kubespawner_override": {"cpu_limit": 1, "cpu_guarantee": 0.75, "mem_limit": "4G", "mem_guarantee": "3G"}},
                {"display_name": "Medium Instance", "description": "2 CPU / 8 GB",
                 "kubespawner_override": {"cpu_limit": 2, "cpu_guarantee": 1.5, "mem_limit": "8G", "mem_guarantee": "6G"}},
            ],
            "dask_worker": {
                "Small Worker": {"worker_cores_limit": 1, "worker_cores": 0.75, "worker_memory_limit": "4G", "worker_memory": "3G"},
                "Medium Worker": {"worker_cores_limit": 2, "worker_cores": 1.5, "worker_memory_limit": "8G", "worker_memory": "6G"},
            },
        },
        "environments": {
            "environment-default.yaml": {
                "name": "default",
                "channels": ["conda-forge"],
                "dependencies": ["python=3.12", "ipykernel", f"dask-gateway={dask}", "dask", "distributed", "numpy", "pandas"],
            },
        },
        "jupyterhub": {"idle_timeout_minutes": 60},
        "dask_gateway": {"idle_timeout_minutes": 30},
        # Prometheus and Grafana at https://<domain>/monitoring/, behind the hub's login.
        "monitoring": {"enabled": True, "retention": "15d", "storage": "50Gi"},
    }
