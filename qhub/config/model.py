"""The QHub file: one pydantic model tree, every default in one place.

Unknown keys are errors, known misspellings of the seed format are aliases, and rules that
span sections (a profile naming a user, the provider's block) are checked here so that one
run of validation reports every error at once.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from qhub import versions
from qhub.config.base import QUANTITY_HELP, Model, Problem, empty_list, parse_quantity, rule_error, rules_error
from qhub.config.chart_overrides import DaskGatewayOverrides, JupyterHubOverrides
from qhub.config.errors import clip, quote
from qhub.config.dns import Dns, dns_problems
from qhub.config.environments import Environment, EnvironmentFileName
from qhub.config.extensions import HelmExtensions
from qhub.config.monitoring import Monitoring
from qhub.config.profiles import Profiles
from qhub.config.providers.aws import AmazonWebServices
from qhub.config.providers.azure import Azure
from qhub.config.providers.digitalocean import DigitalOcean
from qhub.config.providers.existing import Existing
from qhub.config.providers.gcp import GoogleCloudPlatform
from qhub.config.security import Security


class Provider(str, enum.Enum):
    """Where the cluster runs."""

    aws = "aws"
    gcp = "gcp"
    do = "do"
    azure = "azure"
    existing = "existing"


# The key of each provider's block in the QHub file.
PROVIDER_BLOCKS = {
    Provider.aws: "amazon_web_services",
    Provider.gcp: "google_cloud_platform",
    Provider.do: "digital_ocean",
    Provider.azure: "azure",
    Provider.existing: "existing",
}

# Lowercase, starts with a letter, short enough to prefix cloud names (IAM roles, GCP ids).
ProjectName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")]
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class CiCd(Model):
    """The CI system that previews and deploys the stacks."""

    type: Literal["github-actions", "none"] = Field("github-actions", description="github-actions writes .github/workflows; none leaves CI to you.")
    branch: str = Field("main", min_length=1, description="Branch whose merges deploy.")
    repository: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$",
        description="GitHub repository (owner/name) whose deploy branch alone may push the custom images; the stack creates that push identity.",
    )


class Certificate(Model):
    """Where the TLS certificate of `domain` comes from."""

    type: Literal["lets-encrypt", "lets-encrypt-staging", "self-signed", "existing"] = Field(
        "lets-encrypt", description="lets-encrypt (needs DNS pointing at the load balancer), its staging server, self-signed, or an existing Secret."
    )
    acme_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Contact address for Let's Encrypt expiry notices.")
    secret_name: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", description="For `existing`: the kubernetes.io/tls Secret in the platform namespace.")

    @model_validator(mode="after")
    def _existing_needs_secret(self) -> Certificate:
        if self.type == "existing" and not self.secret_name:
            raise rules_error([(("secret_name",), "required when type is existing; name the kubernetes.io/tls Secret to serve")])
        return self


# QHub 0.x hub images (e.g. in qhub-ops files) ran JupyterHub 1.x for z2jh 0.9.
LEGACY_HUB_IMAGE = "quansight/qhub-jupyterhub"


class DefaultImages(Model):
    """Images used unless a profile names its own."""

    jupyterhub: str = Field(versions.JUPYTERHUB_IMAGE, description="Hub image; must run the JupyterHub of the pinned z2jh chart.")
    jupyterlab: str = Field(versions.JUPYTERLAB_IMAGE, description="User server image.")
    dask_worker: str = Field(versions.DASK_WORKER_IMAGE, description="Dask scheduler and worker image.")
    conda_store: str = Field(versions.CONDA_STORE_IMAGE, description="conda-store server and worker image.")

    @property
    def legacy_hub_image(self) -> bool:
        """The hub image is one of QHub 0.x's, built for z2jh 0.9: it cannot run under the pinned chart."""
        return self.jupyterhub.startswith(LEGACY_HUB_IMAGE)

    @property
    def hub(self) -> str:
        """The hub image to run: the configured one, or the chart's own instead of a QHub 0.x image."""
        return versions.JUPYTERHUB_IMAGE if self.legacy_hub_image else self.jupyterhub


def _quantity(value: str) -> str:
    if not isinstance(value, str) or parse_quantity(value) is None:
        raise rule_error("{value!r} is not a size; expected " + QUANTITY_HELP, value=value)
    return value


class Storage(Model):
    """Sizes of the volumes that hold users' data. They grow in place; they never shrink."""

    conda_store: str = Field("60Gi", description="Volume of built conda environments.")
    shared_filesystem: str = Field(
        "100Gi", validation_alias=AliasChoices("shared_filesystem", "shared_filesytem"),
        description="Shared home and group folders (also accepted as the seed's `shared_filesytem`).",
    )

    @field_validator("conda_store", "shared_filesystem", mode="before")
    @classmethod
    def _sizes(cls, value: str) -> str:
        return _quantity(value)


class Backups(Model):
    """Scheduled snapshots of the disks that hold users' data, where the cloud offers them."""

    enabled: bool = Field(True, description="Snapshot the disks daily: the NFS disk and conda-store's volume on GCP and Azure, conda-store's volume and the EFS drive on AWS; DigitalOcean has none (see the README).")
    retention_days: int = Field(14, ge=1, le=360, description="Days each scheduled snapshot is kept (EFS's automatic backups keep AWS Backup's 35).")


# The Pulumi stacks that are production unless their QHub file sets `production`.
PRODUCTION_STACKS = frozenset({"prod", "production"})


class JupyterHubSettings(Model):
    """Hub behaviour that is not per profile."""

    idle_timeout_minutes: int = Field(60, ge=5, le=7 * 24 * 60, description="Stop user servers idle this long.")
    max_server_age_hours: int = Field(0, ge=0, le=365 * 24, description="Stop any server after this many hours (0: never; at most a year).")
    warm_servers: int = Field(0, ge=0, le=1000, description="Room for this many servers of the default profile kept free on the user group (z2jh's user placeholders), so that many users start at once on a warm node; it keeps nodes up (see the README).")
    overrides: JupyterHubOverrides = Field(default_factory=dict, description="z2jh chart values merged over QHub's, checked against the chart's schema; keys QHub owns (README, Chart overrides) and secrets are refused.")


class DaskGatewaySettings(Model):
    """Gateway behaviour that is not per worker profile."""

    idle_timeout_minutes: int = Field(30, ge=1, le=7 * 24 * 60, description="Stop dask clusters with no client activity this long.")
    cluster_max_workers: int = Field(50, ge=1, le=100_000, description="Most workers one dask cluster may have.")
    overrides: DaskGatewayOverrides = Field(default_factory=dict, description="dask-gateway chart values merged over QHub's, checked against the chart's schema; keys QHub owns (README, Chart overrides) and secrets are refused.")


class QHubConfig(Model):
    """A QHub file: everything one stack deploys."""

    project_name: ProjectName = Field(description="Names the cloud resources (lowercase letters, digits, hyphens; 3-32). Changing it recreates everything.", json_schema_extra={"immutable": True})
    provider: Provider = Field(description="Where the cluster runs: aws, gcp, do, azure or existing.", json_schema_extra={"immutable": True})
    ci_cd: CiCd = Field(default_factory=CiCd, description="`github-actions`, `none`, or {type, branch, repository}.")
    domain: str = Field(description="DNS name the platform is served at, e.g. jupyter.example.org.")
    namespace: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] = Field("dev", description="Kubernetes namespace of the platform.")
    certificate: Certificate = Field(default_factory=Certificate, description="TLS certificate of `domain`.")
    security: Security = Field(description="Login method, users and groups.")

    amazon_web_services: AmazonWebServices | None = Field(None, validate_default=True, description="EKS settings (provider aws).")
    google_cloud_platform: GoogleCloudPlatform | None = Field(None, validate_default=True, description="GKE settings (provider gcp).")
    digital_ocean: DigitalOcean | None = Field(None, validate_default=True, description="DOKS settings (provider do).")
    azure: Azure | None = Field(None, validate_default=True, description="AKS settings (provider azure).")
    existing: Existing | None = Field(None, validate_default=True, description="Existing cluster settings (provider existing).")

    default_images: DefaultImages = Field(default_factory=DefaultImages, description="Images used unless a profile names one.")
    storage: Storage = Field(default_factory=Storage, description="Sizes of the shared volumes.")
    backups: Backups = Field(default_factory=Backups, description="Scheduled snapshots of the disks holding users' data.")
    production: bool | None = Field(None, description="Protect the cluster from deletion, so `pulumi destroy` stops before deleting anything; unset, on for the Pulumi stacks named prod or production.")
    profiles: Profiles = Field(default_factory=Profiles, validate_default=True, description="Server and worker sizes.")
    environments: dict[EnvironmentFileName, Environment] = Field(default_factory=dict, description="Conda environments to build, by file name.")
    jupyterhub: JupyterHubSettings = Field(default_factory=JupyterHubSettings, description="Hub settings.")
    dask_gateway: DaskGatewaySettings = Field(default_factory=DaskGatewaySettings, description="Dask gateway settings.")
    dns: Dns | None = Field(None, description="The DNS record of `domain`, written by the stack in your zone; without it, create the `dns_record` output by hand.")
    helm_extensions: HelmExtensions = Field(default_factory=empty_list, description="More Helm charts (QHub 0.4's and Nebari's shape), installed after the platform's own.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Prometheus and Grafana (at /monitoring/, behind the hub's login) with dashboards of the platform.")

    @field_validator("ci_cd", mode="before")
    @classmethod
    def _ci_cd_shorthand(cls, value: object) -> object:
        return {"type": value} if isinstance(value, str) else value

    @field_validator("domain")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        if not _DNS_NAME.match(value):
            raise rule_error("{value!r} is not a DNS name; expected lowercase labels like jupyter.example.org", value=value)
        return value

    # Before the block's own validation, so a block for the wrong provider is reported as such.
    @field_validator("amazon_web_services", "google_cloud_platform", "digital_ocean", "azure", "existing", mode="before")
    @classmethod
    def _block_matches_provider(cls, block: object, info: ValidationInfo) -> object:
        provider = info.data.get("provider")
        if provider is None:  # the provider itself is invalid and reported on its own
            return block
        wanted = PROVIDER_BLOCKS[provider]
        if info.field_name == wanted and block is None:
            raise rule_error("missing; provider {provider} needs a {key} block", provider=provider.value, key=wanted)
        if info.field_name != wanted and block is not None:
            raise rule_error(
                "block given but provider is {provider}; remove it or set provider to the matching value",
                provider=provider.value,
            )
        return block

    @field_validator("dns")
    @classmethod
    def _dns_fits_domain_and_cloud(cls, dns: Dns | None, info: ValidationInfo) -> Dns | None:
        provider = info.data.get("provider")
        problems = dns_problems(dns, info.data, PROVIDER_BLOCKS[provider] if provider else None) if dns else []
        if problems:
            raise rules_error(problems)
        return dns

    @field_validator("profiles")
    @classmethod
    def _profiles_name_known_people(cls, profiles: Profiles, info: ValidationInfo) -> Profiles:
        security: Security | None = info.data.get("security")
        problems: list[Problem] = []
        if security is not None:
            defined = clip(", ".join(sorted(security.groups)), 200)
            for index, profile in enumerate(profiles.jupyterlab):
                name = quote(profile.display_name)
                for position, user in enumerate(profile.users):
                    if user not in security.users:
                        problems.append((("jupyterlab", index, "users", position), f"{quote(user)} (profile {name}) is not in security.users"))
                for position, group in enumerate(profile.groups):
                    if group not in security.groups:
                        problems.append((("jupyterlab", index, "groups", position), f"{quote(group)} (profile {name}) is not in security.groups; defined: {defined}"))
        gpu_groups = _gpu_groups(info.data)
        if gpu_groups is not None and not gpu_groups:
            for index, profile in enumerate(profiles.jupyterlab):
                if profile.gpus:
                    # The key that asked for them: `gpu`, or the override it is short for.
                    key = ("gpu",) if profile.gpu else ("kubespawner_override", "extra_resource_limits", "nvidia.com/gpu")
                    problems.append((("jupyterlab", index, *key), f"profile {quote(profile.display_name)} asks for {profile.gpus} GPU(s) but no node group has GPUs; add a group with gpu: true"))
            for name, worker in profiles.dask_worker.items():
                if worker.worker_gpus:
                    problems.append((("dask_worker", name, "worker_gpus"), f"asks for {worker.worker_gpus} GPU(s) per worker but no node group has GPUs; add a group with gpu: true"))
        if problems:
            raise rules_error(problems)
        return profiles

    @field_validator("jupyterhub")
    @classmethod
    def _warm_servers_on_the_user_group(cls, hub: JupyterHubSettings, info: ValidationInfo) -> JupyterHubSettings:
        profiles: Profiles | None = info.data.get("profiles")
        if hub.warm_servers and profiles is not None:
            default = next((p for p in profiles.jupyterlab if p.default), profiles.jupyterlab[0])
            if default.gpus:
                # Placeholders run where user servers do by default (the user group), without GPUs.
                raise rules_error([(("warm_servers",), f"the default profile {quote(default.display_name)} runs on a GPU group, "
                                                       "and warm servers are kept on the user group; make a CPU profile the default")])
        return hub

    # -- derived facts, so no other layer dispatches on the provider for them --------------

    def is_production(self, stack: str) -> bool:
        """Whether the stack's cluster is protected: `production` when set, else by the Pulumi stack's name."""
        return self.production if self.production is not None else stack in PRODUCTION_STACKS

    @property
    def cloud(self) -> AmazonWebServices | GoogleCloudPlatform | DigitalOcean | Azure | Existing:
        """The block of the chosen provider."""
        block = getattr(self, PROVIDER_BLOCKS[self.provider])
        assert block is not None  # guaranteed by _block_matches_provider
        return block

    @property
    def node_group_names(self) -> list[str]:
        """Names of the cluster's node groups, general first."""
        cloud = self.cloud
        names = list(cloud.node_selectors if isinstance(cloud, Existing) else cloud.node_groups)
        return sorted(names, key=lambda n: (n != "general", n != "user", n != "worker", n))

    @property
    def gpu_node_groups(self) -> list[str]:
        """Node groups whose nodes have NVIDIA GPUs."""
        return _gpu_groups({"provider": self.provider, PROVIDER_BLOCKS[self.provider]: self.cloud}) or []


def _gpu_groups(data: dict[str, Any]) -> list[str] | None:
    """GPU groups of the provider block in partly validated data; None when unknown."""
    provider = data.get("provider")
    block = data.get(PROVIDER_BLOCKS[provider]) if provider else None
    if block is None:
        return None
    if isinstance(block, Existing):
        return [name for name, selector in block.node_selectors.items() if selector.gpu]
    return [name for name, group in block.node_groups.items() if group.is_gpu]
