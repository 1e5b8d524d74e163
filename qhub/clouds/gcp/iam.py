"""The identity GKE nodes run as, with only what nodes need.

Creates: a service account for the nodes and its project roles for writing logs and metrics
(the default compute account has Editor on the whole project, which nodes must not have).
Read access to the registry is granted on the repository itself (see registry.py).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

# What GKE documents as the minimum for a node service account.
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
)


def account_id(name: str, suffix: str) -> str:
    """A service account id: 6-30 characters, lowercase, starting with a letter."""
    head = name[: 30 - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


class NodeIdentity(pulumi.ComponentResource):
    """The nodes' service account and its roles."""

    account: gcp.serviceaccount.Account
    """The service account every node pool runs as."""

    def __init__(self, name: str, project: str, provider: gcp.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:NodeIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.account = gcp.serviceaccount.Account(
            f"{name}-account",
            account_id=account_id(name, "nodes"),
            display_name=f"GKE nodes of {name}",
            project=project,
            opts=child,
        )
        self.bindings = [
            gcp.projects.IAMMember(
                f"{name}-{role.split('/')[1].replace('.', '-').lower()}",
                project=project,
                role=role,
                member=self.account.member,
                opts=child,
            )
            for role in NODE_ROLES
        ]
        self.register_outputs({"email": self.account.email})
