"""Google Cloud DNS: the record of the domain in a public managed zone.

Creates, under the `qhub:dns:Record` component: an explicit `gcp.Provider` for the zone's
project and one `gcp.dns.RecordSet` (the name with its trailing dot, TTL 300 s): an A record to
the load balancer's IP (on GKE the reserved static IP), or a CNAME to its hostname.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.dns.record import DomainRecord, RecordRequest

SDK_MODULES: tuple[str, ...] = ("pulumi_gcp.dns",)


def managed_zone_name(zone: str) -> str:
    """The managed zone's resource name as gcloud's own examples name it: example.org -> example-org."""
    return zone.replace(".", "-")


def build(name: str, request: RecordRequest) -> DomainRecord:
    """The record of `request.domain` in the managed zone that holds `request.zone`."""
    component = DomainRecord(name, request)
    assert request.project is not None  # the config requires a project for cloud-dns off GCP
    provider = gcp.Provider(f"{name}-gcp", project=request.project, opts=component.child)
    record_type = request.record_type()
    # Cloud DNS reads every name as absolute only with the trailing dot, a CNAME's target too.
    target = request.target(cname_suffix=".")
    gcp.dns.RecordSet(
        f"{name}-record",
        managed_zone=request.dns.managed_zone or managed_zone_name(request.zone),
        name=f"{request.domain}.",
        type=record_type,
        ttl=request.ttl,
        rrdatas=[target],
        project=request.project,
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )
    return component.finish(record_type, target)
