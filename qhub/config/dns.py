"""The `dns` block: which DNS service holds the zone of `domain`, and whether the stack writes
the record itself.

Nebari's shape (`provider`, `auto_provision`) plus the zone, which is never guessed from the
domain: Nebari took the last two labels, which breaks `*.co.uk` and gives an apex domain an
empty record name. The record's name inside the zone is derived here (`record_name`), so every
DNS module writes it the same way. No Pulumi import: `qhub validate` stays fast.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError, ValidatorFunctionWrapHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticKnownError, core_schema

from qhub.config.base import Model, Problem, rule_error, rules_error
from qhub.config.errors import quote

# Lowercase labels, as `domain` is written; a zone may be a single label below a public suffix.
_ZONE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# An Azure resource group name, and a GCP project id.
_RESOURCE_GROUP = r"^[-\w._()]{0,89}[-\w_()]$"
_PROJECT = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
# The same language as _RESOURCE_GROUP without the bound, which is checked as a length. The
# bounded form makes pydantic-core's regex engine expand Unicode `\w` 89 times: 50 ms of every
# `qhub validate`, a fifth of it, against 2 ms for this one.
_RESOURCE_GROUP_UNBOUNDED = r"^[-\w._()]*[-\w_()]$"
_RESOURCE_GROUP_MAX_LENGTH = 90


class _ResourceGroupName:
    """A str matching _RESOURCE_GROUP, checked as the unbounded pattern plus the length, and
    reported and documented exactly as `Field(pattern=_RESOURCE_GROUP)` would be."""

    @staticmethod
    def _check(value: Any, handler: ValidatorFunctionWrapHandler) -> str:
        mismatch = PydanticKnownError("string_pattern_mismatch", {"pattern": _RESOURCE_GROUP})
        try:
            text: str = handler(value)
        except ValidationError as error:
            if any(item["type"] == "string_pattern_mismatch" for item in error.errors(include_url=False)):
                raise mismatch from None
            raise  # not text at all: pydantic's own error, as for any str field
        if len(text) > _RESOURCE_GROUP_MAX_LENGTH:
            raise mismatch
        return text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(cls._check, core_schema.str_schema(pattern=_RESOURCE_GROUP_UNBOUNDED))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "pattern": _RESOURCE_GROUP}


ResourceGroupName = Annotated[str, _ResourceGroupName]

TTL_SECONDS = 300
"""TTL of the record: short enough that a moved load balancer is found within minutes."""


class DnsProvider(str, enum.Enum):
    """The DNS service that holds the zone."""

    route53 = "route53"
    cloud_dns = "cloud-dns"
    azure_dns = "azure-dns"
    digitalocean = "digitalocean"
    cloudflare = "cloudflare"


# DNS services that cannot hold a CNAME at the zone apex (Route 53 aliases, Cloudflare flattens).
NO_APEX_CNAME = (DnsProvider.cloud_dns, DnsProvider.azure_dns, DnsProvider.digitalocean)


def in_zone(domain: str, zone: str) -> bool:
    """Whether `domain` is the zone's apex or a name below it (label-wise, not by suffix)."""
    return domain == zone or domain.endswith("." + zone)


def record_name(domain: str, zone: str) -> str:
    """The record's name relative to the zone: `@` at the apex, else the labels before the zone."""
    return "@" if domain == zone else domain.removesuffix("." + zone)


class Dns(Model):
    """The DNS record of `domain`: written by the stack (auto_provision) or left to you."""

    provider: DnsProvider = Field(description="route53, cloud-dns, azure-dns, digitalocean or cloudflare: the service that holds `zone`.")
    zone: str | None = Field(None, description="The zone that holds `domain`, e.g. example.org (never guessed from the domain). Required with auto_provision.")
    auto_provision: bool = Field(False, description="true: the stack creates the record for `domain` pointing at the load balancer (TTL 300 s); false: it only prints it as the `dns_record` output.")
    project: str | None = Field(None, pattern=_PROJECT, description="cloud-dns: the GCP project of the zone; default google_cloud_platform.project.")
    managed_zone: str | None = Field(None, pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", description="cloud-dns: the managed zone's name in the project; default the zone with dots as hyphens (example-org).")
    resource_group: ResourceGroupName | None = Field(None, description="azure-dns: the resource group of the zone (required).")
    subscription_id: str | None = Field(None, pattern=r"^[0-9a-fA-F-]{36}$", description="azure-dns: the subscription of the zone; default azure.subscription_id, else the credentials' own.")

    @field_validator("zone")
    @classmethod
    def _zone_is_a_dns_name(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.removesuffix(".")
            if not _ZONE.match(value):
                raise rule_error("{value!r} is not a DNS zone; expected lowercase labels like example.org", value=value)
        return value

    @model_validator(mode="after")
    def _keys_of_the_provider(self) -> Dns:
        problems: list[Problem] = []
        if self.auto_provision and self.zone is None:
            problems.append((("zone",), "required when auto_provision is true; name the zone that holds `domain`, e.g. example.org"))
        if self.provider == DnsProvider.azure_dns and self.resource_group is None:
            problems.append((("resource_group",), "required for azure-dns; name the resource group that holds the zone"))
        if self.provider != DnsProvider.azure_dns:
            for key in ("resource_group", "subscription_id"):
                if getattr(self, key) is not None:
                    problems.append(((key,), f"only used by azure-dns, not {self.provider.value}; remove it"))
        if self.provider != DnsProvider.cloud_dns:
            for key in ("project", "managed_zone"):
                if getattr(self, key) is not None:
                    problems.append(((key,), f"only used by cloud-dns, not {self.provider.value}; remove it"))
        if problems:
            raise rules_error(problems)
        return self

    @property
    def creates_record(self) -> bool:
        """Whether the stack writes the record (else `dns_record` stays the manual path)."""
        return self.auto_provision and self.zone is not None


def dns_problems(dns: Dns, data: dict[str, Any], provider_block: str | None) -> list[Problem]:
    """Rules between `dns` and the sections before it: the domain in the zone, and what the
    cluster's load balancer allows. `data` holds the sections validated so far; `provider_block`
    is the key of the chosen provider's block (None when the provider is invalid)."""
    problems: list[Problem] = []
    domain: str | None = data.get("domain")
    provider = data.get("provider")
    if dns.zone is not None and domain is not None:
        if not in_zone(domain, dns.zone):
            problems.append((("zone",), (
                f"domain {quote(domain)} is not in dns.zone {quote(dns.zone)}; set dns.zone to the zone that holds "
                "domain (for jupyter.example.org, example.org or jupyter.example.org itself)"
            )))
        elif domain == dns.zone and provider is not None and provider.value == "aws" and dns.provider in NO_APEX_CNAME:
            # EKS's load balancer has a hostname, not an IP: the record is a CNAME, which DNS forbids at the apex.
            problems.append((("zone",), (
                f"domain {quote(domain)} is the apex of dns.zone, and on aws the load balancer has a hostname: "
                f"{dns.provider.value} cannot hold a CNAME at the apex; use route53 (an alias record) or cloudflare "
                "(CNAME flattening), or serve a name below the zone"
            )))
    if dns.provider == DnsProvider.cloud_dns and dns.project is None and provider_block is not None and provider_block != "google_cloud_platform":
        problems.append((("project",), "required for cloud-dns when provider is not gcp; name the GCP project of the zone"))
    return problems
