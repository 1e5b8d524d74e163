"""The Kubernetes layer: everything on the cluster. Imports pulumi_kubernetes, never a cloud SDK."""

from qhub.platform.platform import Platform

__all__ = ["Platform"]
