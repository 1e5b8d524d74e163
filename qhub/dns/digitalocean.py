"""DigitalOcean DNS: the record of the domain in a domain (zone) DigitalOcean hosts.

Creates, under the `qhub:dns:Record` component: an explicit `digitalocean.Provider` (its token
from DIGITALOCEAN_TOKEN, as the cluster's) and one `digitalocean.DnsRecord` named relative to the
domain (`@` at the apex), TTL 300 s: an A record to the load balancer's IP, or a CNAME to its
hostname (with the trailing dot DigitalOcean needs for a name outside the zone).
"""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as do

from qhub.dns.record import DomainRecord, RecordRequest

SDK_MODULES: tuple[str, ...] = ("pulumi_digitalocean",)


def build(name: str, request: RecordRequest) -> DomainRecord:
    """The record of `request.domain` in DigitalOcean's domain `request.zone`."""
    component = DomainRecord(name, request)
    provider = do.Provider(f"{name}-do", opts=component.child)
    record_type, target = request.record_type(), request.target(cname_suffix=".")
    do.DnsRecord(
        f"{name}-record",
        domain=request.zone,
        name=request.relative_name,
        type=record_type,
        value=target,
        ttl=request.ttl,
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )
    return component.finish(record_type, target)
