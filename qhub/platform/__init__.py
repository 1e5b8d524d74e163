"""The Kubernetes layer: everything on the cluster. Imports pulumi_kubernetes, never a cloud SDK."""

from qhub.platform.platform import Platform

# The SDK modules the platform creates resources from (see SDK_MODULES in qhub/clouds).
SDK_MODULES: tuple[str, ...] = (
    "pulumi_kubernetes.apps.v1",
    "pulumi_kubernetes.core.v1",
    "pulumi_kubernetes.helm.v3",
    "pulumi_kubernetes.networking.v1",
    "pulumi_kubernetes.storage.v1",
    "pulumi_random",
    "pulumi_tls",
)

__all__ = ["SDK_MODULES", "Platform"]
