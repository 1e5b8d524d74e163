"""DigitalOcean: a DOKS cluster in its own VPC, with the account's container registry as an option.

The only package that imports `pulumi_digitalocean`. `build(name, config)` returns the uniform
ClusterOutputs; the modules here each create one part (see their docstrings): doks, ci_push, cluster.
"""

from __future__ import annotations

import pulumi

from qhub.clouds.digitalocean.cluster import DigitalOceanCluster
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.providers.digitalocean import DigitalOcean
from qhub.images import push_trust

# The SDK modules this cloud creates resources from (see qhub/clouds/__init__.py).
SDK_MODULES: tuple[str, ...] = (
    "pulumi_digitalocean",
)



def build(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the DOKS cluster of the config and describe it for the platform layer."""
    block = config.cloud
    if not isinstance(block, DigitalOcean):
        raise TypeError(f"qhub.clouds.digitalocean needs a digital_ocean block, not {type(block).__name__}")
    return DigitalOceanCluster(name, config.project_name, block, production=config.is_production(pulumi.get_stack()),
                               push=push_trust(config.ci_cd)).outputs
