"""Platform: the component that holds every Kubernetes-level part of a stack.

Creates: the platform namespace; the shared storage, ingress, TLS, JupyterHub, dask-gateway,
conda-store and SSH components are added as they are built (see the open issues).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.stack import StackSecrets


class Platform(pulumi.ComponentResource):
    """All platform services of one stack, on one cluster."""

    exports: dict[str, pulumi.Input[Any]]

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, secrets: StackSecrets,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:Platform", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=list(cluster.ready))
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=config.namespace, labels={"app.kubernetes.io/part-of": "qhub"}),
            opts=k8s_opts,
        )
        self.exports = {"namespace": self.namespace.metadata.name}
        self.register_outputs(self.exports)
