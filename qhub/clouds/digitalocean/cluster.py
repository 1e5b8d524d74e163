"""DigitalOceanCluster: the component that assembles a stack's DOKS cluster and describes it.

Creates, under one `qhub:digitalocean:Cluster`: the explicit `digitalocean.Provider`, a VPC in
the config's region, the container registry when asked for (protected), the cluster and its
pools (doks.py) and the Kubernetes provider from a kubeconfig read afresh at every run; with a
registry and the GitHub repository named, the `image_push` output for CI (ci_push.py).
Reads: the cluster (`get_kubernetes_cluster`) for that kubeconfig, see `fresh_kubeconfig`.
"""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as do

from qhub.clouds.common import group_tolerations, make_k8s_provider, protection_notice
from qhub.clouds.digitalocean.ci_push import image_push_output
from qhub.clouds.digitalocean.doks import DEFAULT_POOL, NODE_POOL_LABEL, doks_version, make_cluster, make_node_pool
from qhub.cluster import ClusterOutputs
from qhub.config.providers.digitalocean import DigitalOcean
from qhub.images import CUSTOM_IMAGES, PushTrust

# DOKS's default CSI class: block storage volumes, expandable.
STORAGE_CLASS = "do-block-storage"
# Regions the container registry can live in; elsewhere DigitalOcean picks the nearest.
REGISTRY_REGIONS = ("nyc3", "sfo2", "sfo3", "ams3", "sgp1", "fra1", "blr1", "syd1", "tor1", "lon1")


# Lifetime of the kubeconfig token read at each run: long enough for the longest `pulumi up`
# (the hub's first start may take 15 minutes) and for a day's kubectl work with the exported
# `kubeconfig`, short enough that a copy found in state or a log is soon useless.
KUBECONFIG_TOKEN_SECONDS = 24 * 3600


def fresh_kubeconfig(cluster: do.KubernetesCluster, provider: do.Provider, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The cluster's kubeconfig, asked of DigitalOcean's API at every preview and update.

    The cluster resource's own `kube_configs` is stored in state at creation, and DigitalOcean
    expires its token after seven days (API: GET /v2/kubernetes/clusters/{id}/kubeconfig, "if
    not set or 0, then the token will have a 7 day expiry"), so a provider built from it fails
    with 401 from day eight until someone refreshes. A data source is read on every run, so its
    token is always new. It waits for the cluster: on a stack's first preview it is unknown.
    """
    cluster_data = do.get_kubernetes_cluster_output(
        name=cluster.name,
        kubeconfig_expire_seconds=KUBECONFIG_TOKEN_SECONDS,
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent, depends_on=[cluster]),
    )
    return pulumi.Output.secret(cluster_data.kube_configs.apply(lambda configs: configs[0].raw_config or ""))


def tags(project: str, name: str) -> list[str]:
    """Tags on the cluster and its droplets, so costs trace back to the stack."""
    return ["qhub", f"qhub-project:{project}", f"qhub-stack:{name}"]


class DigitalOceanCluster(pulumi.ComponentResource):
    """A DOKS cluster with its VPC, node pools and optional registry."""

    outputs: ClusterOutputs
    """What the platform layer needs to know about the cluster."""

    def __init__(self, name: str, project: str, block: DigitalOcean, *, production: bool = False,
                 push: PushTrust | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:digitalocean:Cluster", name, None, opts)
        # Credentials come from DIGITALOCEAN_TOKEN; region is set on each resource.
        provider = do.Provider(f"{name}-do", opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        stack_tags = tags(project, name)
        vpc = do.Vpc(
            f"{name}-vpc",
            name=f"{name}-vpc",
            region=block.region,
            ip_range=block.vpc_cidr,
            description=f"QHub stack {name}",
            opts=child,
        )
        registry = None
        if block.container_registry:
            registry = do.ContainerRegistry(
                f"{name}-registry",
                name=project,
                subscription_tier_slug="basic",
                region=block.region if block.region in REGISTRY_REGIONS else None,
                # It holds the stack's images; DigitalOcean allows one per account.
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
            )
        version = doks_version(block, provider, self)
        cluster = make_cluster(name, block, version, vpc, stack_tags, provider, self, registry, production=production)
        pools: list[pulumi.Resource] = [cluster]
        pools += [
            make_node_pool(name, group_name, group, cluster, stack_tags, provider, self)
            for group_name, group in block.node_groups.items() if group_name != DEFAULT_POOL
        ]
        config = fresh_kubeconfig(cluster, provider, self)
        k8s_provider = make_k8s_provider(f"{name}-k8s", config, self)
        registry_url = registry.endpoint if registry is not None else None
        exports: dict[str, pulumi.Input[object]] = {
            "cluster_name": cluster.name, "region": block.region, "kubernetes_version": cluster.version,
            "protection": protection_notice(production, "DOKS cluster"),
        }
        if registry_url is not None:
            exports["registry_url"] = registry_url
        if registry is not None and push:  # where the images workflow pushes, with a token
            exports["image_push"] = image_push_output(name, registry, CUSTOM_IMAGES)
        gpu_groups = [group_name for group_name, group in block.node_groups.items() if group.is_gpu]
        self.outputs = ClusterOutputs(
            name=cluster.name,
            kubeconfig=config,
            k8s_provider=k8s_provider,
            node_selectors={group_name: {NODE_POOL_LABEL: group_name} for group_name in block.node_groups},
            storage_class=STORAGE_CLASS,
            registry_url=registry_url,
            # Name the load balancer after the stack, so it is recognisable in the control panel.
            ingress_service_annotations={"service.beta.kubernetes.io/do-loadbalancer-name": f"{name}-ingress"},
            gpu_node_groups=gpu_groups,
            # DigitalOcean has no spot droplets (the config refuses spot: true): GPU taints only.
            node_tolerations=group_tolerations(block.node_groups, gpu_groups),
            # No node_cidrs: DOKS runs Cilium, whose policies name other nodes by identity, so an
            # ipBlock of the VPC's range would refuse the kubelets' NFS mounts.
            ready=pools,
            exports=exports,
        )
        self.register_outputs({"cluster_name": cluster.name, "endpoint": cluster.endpoint})
