"""A cluster someone else runs: no cloud resources, only a Kubernetes provider for its context.

Creates: the `pulumi_kubernetes.Provider` for `existing.kube_context`.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from qhub.clouds.common import protection_notice
from qhub.cluster import GPU_TOLERATION, ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.providers.existing import Existing

# The SDK modules this cloud creates resources from (see qhub/clouds/__init__.py).
SDK_MODULES: tuple[str, ...] = ()



class ExistingCluster(pulumi.ComponentResource):
    """The Kubernetes provider of a cluster reached through the local kubeconfig."""

    def __init__(self, name: str, block: Existing, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:existing:Cluster", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-k8s",
            context=block.kube_context,
            # Never fall back to whatever cluster the ambient kubeconfig points at.
            delete_unreachable=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"context": block.kube_context})


def build(name: str, config: QHubConfig) -> ClusterOutputs:
    """Wrap the existing cluster in the uniform ClusterOutputs."""
    block = config.cloud
    assert isinstance(block, Existing)
    cluster = ExistingCluster(name, block)
    return ClusterOutputs(
        name=block.kube_context or "current-context",
        kubeconfig=pulumi.Output.secret(""),
        k8s_provider=cluster.provider,
        node_selectors={group: {s.key: s.value} for group, s in block.node_selectors.items()},
        storage_class=block.storage_class,
        gpu_node_groups=[group for group, s in block.node_selectors.items() if s.gpu],
        node_tolerations={group: [dict(GPU_TOLERATION)] for group, s in block.node_selectors.items() if s.gpu},
        exports={"cluster_context": block.kube_context or "current-context", "protection": protection_notice(False, None)},
    )
