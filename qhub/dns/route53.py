"""Route 53: the record of the domain in a public hosted zone.

Creates, under the `qhub:dns:Record` component: an explicit `aws.Provider` (the cluster's region
on AWS, else us-east-1, where Route 53's API lives) and one `aws.route53.Record`. On AWS the load
balancer is a network load balancer with a hostname, so the record is an alias A record to it
(its hosted zone from `aws.lb.get_hosted_zone_id`), which also works at the zone apex; elsewhere
an A record to the IP or a CNAME to the hostname, TTL 300 s. Reads: the hosted zone by name.
A record of the same name made by hand before is taken over (`allow_overwrite`).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from qhub.dns.record import DomainRecord, RecordRequest

SDK_MODULES: tuple[str, ...] = ("pulumi_aws.route53",)
# Route 53 is global; its API is served from us-east-1.
GLOBAL_REGION = "us-east-1"


def build(name: str, request: RecordRequest) -> DomainRecord:
    """The record of `request.domain` in the hosted zone `request.zone`."""
    component = DomainRecord(name, request)
    load_balancer = request.load_balancer
    provider = aws.Provider(f"{name}-aws", region=load_balancer.aws_region or GLOBAL_REGION, opts=component.child)
    invoke = pulumi.InvokeOutputOptions(provider=provider, parent=component)
    zone = aws.route53.get_zone_output(name=request.zone, private_zone=False, opts=invoke)
    child = pulumi.ResourceOptions(parent=component, provider=provider)
    if load_balancer.aws_region is not None:
        balancer_zone = aws.lb.get_hosted_zone_id_output(load_balancer_type="network", region=load_balancer.aws_region, opts=invoke)
        target = request.target()
        aws.route53.Record(
            f"{name}-record",
            zone_id=zone.zone_id,
            name=request.domain,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=target, zone_id=balancer_zone.id, evaluate_target_health=True)],
            allow_overwrite=True,
            opts=child,
        )
        return component.finish("A (alias)", target)
    record_type, target = request.record_type(), request.target()
    aws.route53.Record(
        f"{name}-record",
        zone_id=zone.zone_id,
        name=request.domain,
        type=record_type,
        ttl=request.ttl,
        records=[target],
        allow_overwrite=True,
        opts=child,
    )
    return component.finish(record_type, target)
