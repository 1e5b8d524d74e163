"""build_platform(config): the one place that dispatches on the provider."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pulumi

from qhub.cluster import ClusterOutputs
from qhub.config import Provider, QHubConfig

# Module of each provider under qhub/clouds; imported lazily so a stack loads one cloud SDK only.
CLOUD_MODULES = {
    Provider.aws: "qhub.clouds.aws",
    Provider.gcp: "qhub.clouds.gcp",
    Provider.do: "qhub.clouds.digitalocean",
    Provider.azure: "qhub.clouds.azure",
    Provider.existing: "qhub.clouds.existing",
}


@dataclass(frozen=True)
class StackSecrets:
    """Secrets from the stack's encrypted Pulumi config, as secret Outputs (None when unset)."""

    oauth_client_secret: pulumi.Output[str] | None
    hub_password: pulumi.Output[str] | None


def build_cluster(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the cluster of the config's provider."""
    module = importlib.import_module(CLOUD_MODULES[config.provider])
    return module.build(name, config)


def build_platform(stack: str, config: QHubConfig, secrets: StackSecrets) -> dict[str, pulumi.Input[object]]:
    """Create the cluster and the platform on it; returns the stack outputs."""
    from qhub.platform import Platform

    name = f"{config.project_name}-{stack}"
    cluster = build_cluster(name, config)
    platform = Platform(name, config, cluster, secrets)
    return {
        **cluster.exports,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        **platform.exports,
    }
