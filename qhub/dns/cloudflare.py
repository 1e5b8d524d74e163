"""Cloudflare: the record of the domain in a Cloudflare zone, on any cloud.

Creates, under the `qhub:dns:Record` component: an explicit `cloudflare.Provider` with the API
token from the stack's secret `cloudflare:apiToken`, else from CLOUDFLARE_API_TOKEN (never from
the QHub file), and one `cloudflare.DnsRecord` (pulumi-cloudflare 6; `cloudflare.Record` is its
deprecated predecessor) for the full name, not proxied, TTL 300 s: an A record to the load
balancer's IP or a CNAME to its hostname, which Cloudflare flattens at the zone apex.
Reads: the zone by name.
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare

from qhub.dns.record import DomainRecord, RecordRequest

SDK_MODULES: tuple[str, ...] = ("pulumi_cloudflare",)


def build(name: str, request: RecordRequest) -> DomainRecord:
    """The record of `request.domain` in the Cloudflare zone `request.zone`."""
    component = DomainRecord(name, request)
    # An explicit provider reads no `cloudflare:` stack config by itself; None falls back to the environment.
    token = pulumi.Config("cloudflare").get_secret("apiToken")
    provider = cloudflare.Provider(f"{name}-cloudflare", api_token=token, opts=component.child)
    zone = cloudflare.get_zone_output(
        filter=cloudflare.GetZoneFilterArgs(name=request.zone, match="all"),
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=component),
    )
    record_type, target = request.record_type(), request.target()
    cloudflare.DnsRecord(
        f"{name}-record",
        # `id` is the zone found; `zone_id` is only the look-up's own (unset) argument.
        zone_id=zone.id,
        name=request.domain,
        type=record_type,
        content=target,
        ttl=request.ttl,
        # Not proxied: the platform terminates TLS itself (cert-manager), and clients reach its load balancer directly.
        proxied=False,
        comment="Managed by the QHub Pulumi stack: the platform's load balancer",
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )
    return component.finish(record_type, target)
