"""Azure DNS: the record of the domain in a public DNS zone.

Creates, under the `qhub:dns:Record` component: an explicit `azure_native.Provider` (the zone's
subscription when given) and one `azure_native.dns.RecordSet` named relative to the zone (`@` at
the apex), TTL 300 s: an A record to the load balancer's IP (on AKS the reserved static public
IP), or a CNAME to its hostname.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from qhub.dns.record import DomainRecord, RecordRequest

SDK_MODULES: tuple[str, ...] = ("pulumi_azure_native.dns",)


def build(name: str, request: RecordRequest) -> DomainRecord:
    """The record of `request.domain` in the zone `request.zone` of `dns.resource_group`."""
    component = DomainRecord(name, request)
    assert request.dns.resource_group is not None  # the config requires it for azure-dns
    provider = azure.Provider(f"{name}-azure", subscription_id=request.subscription_id, opts=component.child)
    record_type, target = request.record_type(), request.target()
    is_ip = pulumi.Output.from_input(request.load_balancer.is_ip)
    azure.dns.RecordSet(
        f"{name}-record",
        resource_group_name=request.dns.resource_group,
        zone_name=request.zone,
        relative_record_set_name=request.relative_name,
        record_type=record_type,
        ttl=request.ttl,
        a_records=pulumi.Output.all(is_ip, target).apply(
            lambda parts: [azure.dns.ARecordArgs(ipv4_address=parts[1])] if parts[0] else None),
        cname_record=pulumi.Output.all(is_ip, target).apply(
            lambda parts: None if parts[0] else azure.dns.CnameRecordArgs(cname=parts[1])),
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )
    return component.finish(record_type, target)
