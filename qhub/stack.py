"""build_platform(config): the one place that dispatches on the provider, the cloud's and the DNS service's."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from typing import TYPE_CHECKING

import pulumi

from qhub.cluster import ClusterOutputs
from qhub.config import Provider, QHubConfig
from qhub.config.dns import DnsProvider
from qhub.config.providers.aws import AmazonWebServices
from qhub.config.providers.azure import Azure
from qhub.config.providers.gcp import GoogleCloudPlatform

if TYPE_CHECKING:
    from qhub.dns.record import DomainRecord
    from qhub.platform import Platform

# Module of each provider under qhub/clouds; imported lazily so a stack loads one cloud SDK only.
CLOUD_MODULES = {
    Provider.aws: "qhub.clouds.aws",
    Provider.gcp: "qhub.clouds.gcp",
    Provider.do: "qhub.clouds.digitalocean",
    Provider.azure: "qhub.clouds.azure",
    Provider.existing: "qhub.clouds.existing",
}

# Module of each DNS service under qhub/dns; imported only when the stack writes its record.
DNS_MODULES = {
    DnsProvider.route53: "qhub.dns.route53",
    DnsProvider.cloud_dns: "qhub.dns.cloud_dns",
    DnsProvider.azure_dns: "qhub.dns.azure_dns",
    DnsProvider.digitalocean: "qhub.dns.digitalocean",
    DnsProvider.cloudflare: "qhub.dns.cloudflare",
}


@dataclass(frozen=True)
class StackSecrets:
    """Secrets from the stack's encrypted Pulumi config, as secret Outputs (None when unset)."""

    oauth_client_secret: pulumi.Output[str] | None
    hub_password: pulumi.Output[str] | None


def build_cluster(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the cluster of the config's provider."""
    module = importlib.import_module(CLOUD_MODULES[config.provider])
    return module.build(name, config)


def build_platform(stack: str, config: QHubConfig, secrets: StackSecrets) -> dict[str, pulumi.Input[object]]:
    """Create the cluster and the platform on it; returns the stack outputs."""
    from qhub.platform import Platform

    name = f"{config.project_name}-{stack}"
    cluster = build_cluster(name, config)
    platform = Platform(name, config, cluster, secrets)
    outputs: dict[str, pulumi.Input[object]] = {
        **cluster.exports,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        **platform.exports,
    }
    if config.dns is not None and config.dns.creates_record:
        record = build_dns_record(f"{name}-dns", config, cluster, platform)
        # The record exists now: the output says so, instead of asking for it to be made by hand.
        outputs["dns_record"] = record.summary
    return outputs


def build_dns_record(name: str, config: QHubConfig, cluster: ClusterOutputs, platform: Platform) -> DomainRecord:
    """The record of the domain, at the DNS service of `config.dns`, pointing at the load balancer."""
    from qhub.dns.record import LoadBalancer, RecordRequest

    dns = config.dns
    assert dns is not None
    cloud = config.cloud
    reserved = cluster.ingress_address
    ingress = platform.ingress
    if reserved is not None:  # GCP, Azure: the static IP the Service takes, known before the Service
        load_balancer = LoadBalancer(address=reserved.ip, is_ip=True)
    elif isinstance(cloud, AmazonWebServices):  # EKS: a network load balancer, known by its hostname
        load_balancer = LoadBalancer(address=ingress.address, is_ip=False, aws_region=cloud.region)
    elif config.provider == Provider.do:  # DigitalOcean's load balancers have IPs
        load_balancer = LoadBalancer(address=ingress.address, is_ip=True)
    else:  # an existing cluster: whatever its load balancer gives
        load_balancer = LoadBalancer(address=ingress.address, is_ip=ingress.address_is_ip)
    project = subscription_id = None
    if dns.provider == DnsProvider.cloud_dns:  # the zone's project: given, else the cluster's
        project = dns.project or (cloud.project if isinstance(cloud, GoogleCloudPlatform) else None)
    if dns.provider == DnsProvider.azure_dns:  # the zone's subscription: given, the cluster's, or the credentials'
        subscription_id = dns.subscription_id or (cloud.subscription_id if isinstance(cloud, Azure) else None)
    request = RecordRequest(domain=config.domain, dns=dns, load_balancer=load_balancer,
                            project=project, subscription_id=subscription_id)
    module = importlib.import_module(DNS_MODULES[dns.provider])
    return module.build(name, request)
