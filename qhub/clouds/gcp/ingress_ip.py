"""The static IP of the ingress controller's load balancer on GCP.

Creates: a regional external `gcp.compute.Address` (Premium tier, as GKE's external passthrough
load balancer uses by default). The controller's Service asks for it in spec.loadBalancerIP, so
a re-created Service (a chart upgrade that replaces it, a re-installed release) keeps the address
the domain's record points at, instead of taking a new ephemeral one.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.cluster import ReservedAddress


def reserve_ingress_address(name: str, region: str, opts: pulumi.ResourceOptions) -> ReservedAddress:
    """Reserve the address in the cluster's region and describe how the Service takes it."""
    address = gcp.compute.Address(
        f"{name}-ingress-ip",
        name=f"{name}-ingress",
        region=region,
        address_type="EXTERNAL",
        network_tier="PREMIUM",
        description="Load balancer of the QHub ingress controller; the domain's DNS record points here.",
        opts=opts,
    )
    return ReservedAddress(ip=address.address, by_address=True)
