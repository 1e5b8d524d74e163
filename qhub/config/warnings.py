"""Findings that do not stop a deploy but that the person running it should know."""

from __future__ import annotations

from qhub import versions
from qhub.config.errors import Issue, clip, quote
from qhub.config.model import PROVIDER_BLOCKS, QHubConfig
from qhub.config.providers.azure import AZURE_REGIONS, Azure, is_known_region
from qhub.config.providers.common import CloudBlock
from qhub.config.security import Auth0Auth, GitHubAuth
from qhub.images import mixed_build_warnings


def collect_warnings(config: QHubConfig) -> list[Issue]:
    """Every warning about a valid config."""
    warnings: list[Issue] = []
    auth = config.security.authentication
    if isinstance(auth, GitHubAuth) and auth.config.auth0_subdomain is not None:
        warnings.append(Issue("security.authentication.config.auth0_subdomain", "does not apply to GitHub login and is ignored", "warning"))
    if isinstance(auth, (GitHubAuth, Auth0Auth)) and auth.config.client_secret is not None:
        warnings.append(Issue(
            "security.authentication.config.client_secret",
            "a secret in the config file is readable by anyone with the repository; it is used as a Pulumi secret, "
            "but move it out: `pulumi config set --secret qhub:oauthClientSecret <secret>` and delete it here",
            "warning",
        ))
    cloud = config.cloud
    if isinstance(cloud, CloudBlock):
        supported = versions.SUPPORTED_KUBERNETES_MINORS.get(config.provider.value, ())
        if supported and cloud.kubernetes_minor not in supported:
            warnings.append(Issue(
                f"{PROVIDER_BLOCKS[config.provider]}.kubernetes_version",
                f"{clip(cloud.kubernetes_version)} is not in standard support on this cloud (supported: {', '.join(supported)}); "
                "the cloud will refuse to create it, so upgrade before deploying",
                "warning",
            ))
    if isinstance(cloud, Azure) and not is_known_region(cloud.region):
        # Shaped like a region but not in Azure's table: a typo, or a region newer than the table.
        import difflib  # only when warning: keeps `qhub validate` fast

        close = difflib.get_close_matches(cloud.region, sorted(AZURE_REGIONS.values()), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        warnings.append(Issue(
            "azure.region",
            f"{quote(cloud.region)} is not in QHub's list of Azure regions; {hint}(a region newer than the list works, but Azure refuses a name it does not have)",
            "warning",
        ))
    if not config.security.users:
        warnings.append(Issue("security.users", "no users are listed, so nobody can log in", "warning"))
    if config.certificate.type.startswith("lets-encrypt") and not config.certificate.acme_email:
        warnings.append(Issue("certificate.acme_email", "not set; Let's Encrypt will not be able to warn you before the certificate expires", "warning"))
    if config.default_images.legacy_hub_image:
        warnings.append(Issue(
            "default_images.jupyterhub",
            f"{clip(config.default_images.jupyterhub, 100)} was built for QHub's z2jh 0.9 and does not run on z2jh "
            f"{versions.JUPYTERHUB_CHART.version}; the chart's hub image {config.default_images.hub} is used instead",
            "warning",
        ))
    if config.backups.enabled and config.provider.value in ("do", "existing"):
        # Only GCP, Azure and AWS get scheduled snapshots of the disks holding users' data.
        why = ("DigitalOcean has no scheduled volume snapshots" if config.provider.value == "do"
               else "the disks of an existing cluster are not this stack's to schedule snapshots of")
        warnings.append(Issue(
            "backups.enabled",
            f"{why}: snapshot the shared drive's and conda-store's volumes yourself (README: Backups), "
            "or set backups.enabled: false to say you do",
            "warning",
        ))
    warnings += mixed_build_warnings(config)
    return warnings
