"""GCP: a GKE cluster on its own VPC-native network, with Artifact Registry.

The only package that imports `pulumi_gcp`. `build(name, config)` returns the uniform
ClusterOutputs; the modules here each create one part (see their docstrings):
network, iam, gke, nodepools, disks, registry, ci_push, cluster.
"""

from __future__ import annotations

import pulumi

from qhub.clouds.gcp.cluster import GcpCluster
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.providers.gcp import GoogleCloudPlatform
from qhub.images import push_trust

# The SDK modules this cloud creates resources from (see qhub/clouds/__init__.py).
SDK_MODULES: tuple[str, ...] = (
    "pulumi_gcp.artifactregistry",
    "pulumi_gcp.compute",
    "pulumi_gcp.container",
    "pulumi_gcp.iam",
    "pulumi_gcp.projects",
    "pulumi_gcp.serviceaccount",
)



def build(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the GKE cluster of the config and describe it for the platform layer."""
    block = config.cloud
    if not isinstance(block, GoogleCloudPlatform):
        raise TypeError(f"qhub.clouds.gcp needs a google_cloud_platform block, not {type(block).__name__}")
    return GcpCluster(name, block, production=config.is_production(pulumi.get_stack()),
                      storage=config.storage, backups=config.backups, push=push_trust(config.ci_cd)).outputs
