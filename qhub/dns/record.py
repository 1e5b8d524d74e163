"""What every DNS module shares: the request (domain, zone, load balancer) and the component.

Creates nothing by itself; `DomainRecord` is the `qhub:dns:Record` component each DNS module
puts its provider and its record under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from qhub.config.dns import TTL_SECONDS, Dns, record_name


@dataclass(frozen=True)
class LoadBalancer:
    """The ingress controller's load balancer, as far as the cloud layer knows it."""

    address: pulumi.Input[str]
    """Its IP or hostname."""
    is_ip: pulumi.Input[bool]
    """Whether `address` is an IP (an A record) rather than a hostname (a CNAME or an alias)."""
    aws_region: str | None = None
    """Set when the load balancer is an AWS network load balancer in this region: Route 53 can
    alias it (an A record, at the zone apex too)."""


@dataclass(frozen=True)
class RecordRequest:
    """Everything a DNS module needs to write the record of the domain."""

    domain: str
    """The platform's DNS name."""
    dns: Dns
    """The `dns` block (its zone is set: the config requires it with auto_provision)."""
    load_balancer: LoadBalancer
    """What the record points at."""
    project: str | None = None
    """cloud-dns: the GCP project of the zone."""
    subscription_id: str | None = None
    """azure-dns: the subscription of the zone (None: the credentials' own)."""
    ttl: int = TTL_SECONDS
    """TTL of the record, in seconds (an alias record has none: it follows the load balancer)."""

    @property
    def zone(self) -> str:
        """The zone that holds the domain."""
        assert self.dns.zone is not None  # the config requires it when the record is created
        return self.dns.zone

    @property
    def relative_name(self) -> str:
        """The record's name inside the zone; `@` at the apex."""
        return record_name(self.domain, self.zone)

    def record_type(self) -> pulumi.Output[str]:
        """A for an IP, CNAME for a hostname."""
        return pulumi.Output.from_input(self.load_balancer.is_ip).apply(lambda is_ip: "A" if is_ip else "CNAME")

    def target(self, cname_suffix: str = "") -> pulumi.Output[str]:
        """The load balancer's address as the record's value; a hostname gets `cname_suffix`
        (a trailing dot, where the service reads names without one as relative to the zone).
        An update stops, rather than writing an empty record, if the address is not known."""
        def value(parts: list[Any]) -> str:
            address, is_ip = str(parts[0] or ""), bool(parts[1])
            if not address and not pulumi.runtime.is_dry_run():
                raise pulumi.RunError(f"the load balancer of {self.domain} has no address yet; run the update again once it has one")
            return address if is_ip or not address else address.rstrip(".") + cname_suffix
        return pulumi.Output.all(self.load_balancer.address, self.load_balancer.is_ip).apply(value)


class DomainRecord(pulumi.ComponentResource):
    """The DNS record of the platform's domain, whatever service holds the zone."""

    summary: pulumi.Output[dict[str, str]]
    """The record as the `dns_record` output shows it: name, type, value, zone and service."""

    def __init__(self, name: str, request: RecordRequest, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:dns:Record", name, None, opts)
        self.request = request
        self.child = pulumi.ResourceOptions(parent=self)

    def finish(self, record_type: pulumi.Input[str], value: pulumi.Input[str]) -> DomainRecord:
        """Register the record's public facts once the module has created it."""
        request = self.request
        self.summary = pulumi.Output.all(record_type, value).apply(lambda parts: {
            "name": request.domain, "type": str(parts[0]), "value": str(parts[1]),
            "zone": request.zone, "managed_by": request.dns.provider.value,
        })
        self.register_outputs({"record": self.summary})
        return self
