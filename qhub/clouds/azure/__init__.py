"""Azure: an AKS cluster in its own resource group and virtual network, with a container registry.

The only package that imports `pulumi_azure_native`. `build(name, config)` returns the uniform
ClusterOutputs; the modules here each create one part (see their docstrings):
network, aks, disks, registry, ci_push, cluster.
"""

from __future__ import annotations

import pulumi

from qhub.clouds.azure.cluster import AzureCluster
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.providers.azure import Azure
from qhub.images import push_trust

# The SDK modules this cloud creates resources from (see qhub/clouds/__init__.py).
SDK_MODULES: tuple[str, ...] = (
    "pulumi_azure_native.authorization",
    "pulumi_azure_native.compute",
    "pulumi_azure_native.containerregistry",
    "pulumi_azure_native.containerservice",
    "pulumi_azure_native.managedidentity",
    "pulumi_azure_native.dataprotection",
    "pulumi_azure_native.network",
    "pulumi_azure_native.resources",
)



def build(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the AKS cluster of the config and describe it for the platform layer."""
    block = config.cloud
    if not isinstance(block, Azure):
        raise TypeError(f"qhub.clouds.azure needs an azure block, not {type(block).__name__}")
    return AzureCluster(name, block, production=config.is_production(pulumi.get_stack()),
                        storage=config.storage, backups=config.backups, push=push_trust(config.ci_cd)).outputs
