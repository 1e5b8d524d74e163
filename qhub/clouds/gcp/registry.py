"""The container registry for the stack's custom images.

Creates: an Artifact Registry Docker repository in the cluster's region (protected: it holds
the images users' servers run), and read access on it for the nodes' service account.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp


class Registry(pulumi.ComponentResource):
    """Artifact Registry repository and the nodes' pull access."""

    url: pulumi.Output[str]
    """Push/pull prefix, e.g. us-central1-docker.pkg.dev/PROJECT/REPOSITORY."""

    def __init__(self, name: str, project: str, region: str, node_member: pulumi.Input[str],
                 provider: gcp.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.repository = gcp.artifactregistry.Repository(
            f"{name}-repository",
            repository_id=name,
            project=project,
            location=region,
            format="DOCKER",
            description=f"Custom images of QHub stack {name}",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=False),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-nodes-read",
            project=project,
            location=region,
            repository=self.repository.repository_id,
            role="roles/artifactregistry.reader",
            member=node_member,
            opts=child,
        )
        self.url = pulumi.Output.concat(region, "-docker.pkg.dev/", project, "/", self.repository.repository_id)
        self.register_outputs({"url": self.url})
