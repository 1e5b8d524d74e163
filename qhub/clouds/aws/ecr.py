"""Container registries for the stack's custom images.

Creates: one protected `aws.ecr.Repository` per image (jupyterlab, dask-worker, jupyterhub), with
scan on push and AES-256 encryption.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

# The images a team builds on top of the defaults (the qhub-ops image workflows build these).
IMAGES = ("jupyterlab", "dask-worker", "jupyterhub")


class Registry(pulumi.ComponentResource):
    """ECR repositories named `<stack name>/<image>`."""

    repositories: dict[str, aws.ecr.Repository]
    """Repository per image."""
    urls: dict[str, pulumi.Output[str]]
    """Repository URL per image (`<account>.dkr.ecr.<region>.amazonaws.com/<stack name>/<image>`)."""
    prefix: pulumi.Output[str]
    """URL prefix of the stack's repositories; an image is `<prefix>/<image>`."""

    def __init__(self, name: str, repository_prefix: str, provider: aws.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:aws:Registry", name, None, opts)
        self.repositories = {
            image: aws.ecr.Repository(
                f"{name}-{image}",
                name=f"{repository_prefix}/{image}",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                image_tag_mutability="MUTABLE",
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
                # Images pushed by CI are not reproducible from this program; never delete them by accident.
                opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=True),
            )
            for image in IMAGES
        }
        self.urls = {image: repo.repository_url for image, repo in self.repositories.items()}
        self.prefix = self.urls[IMAGES[0]].apply(lambda url: url.rsplit("/", 1)[0])
        self.register_outputs({"urls": self.urls})
