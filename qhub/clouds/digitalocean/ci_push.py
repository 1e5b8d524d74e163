"""What CI pushes the custom images with on DigitalOcean: the registry token, as nothing else exists.

Creates nothing. DigitalOcean has no OIDC federation for GitHub Actions, so no identity can be
made for the deploy branch alone: the images workflow logs in with a registry-scoped API token
kept as the repository secret DIGITALOCEAN_REGISTRY_TOKEN (docs/ci-cd.md). `image_push_output`
is the stack output `image_push` that tells the workflow where to push.
"""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as do

# The repository secret the images workflow reads (qhub/cicd/images.py names the same).
TOKEN_SECRET = "DIGITALOCEAN_REGISTRY_TOKEN"


def image_push_output(name: str, registry: do.ContainerRegistry, images: tuple[str, ...]) -> dict[str, pulumi.Input[object]]:
    """Provider, registry host, a repository per image (`<registry>/<stack name>-<image>`: the
    account has one registry, shared by its stacks) and the token's secret name."""
    return {
        "provider": "do",
        "registry": registry.server_url,
        "images": {image: pulumi.Output.concat(registry.endpoint, "/", name, "-", image) for image in images},
        "token_secret": TOKEN_SECRET,
    }
