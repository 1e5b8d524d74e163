"""DaskGateway: dask clusters on demand for hub users.

Creates: the gateway's JupyterHub API token (a random Pulumi secret) in the Secret
`dask-gateway-token`, and the pinned dask-gateway Helm release (gateway, controller and
Traefik on the general group, the gateway's pod carrying an HMAC of the token so a new one
rolls it; schedulers and workers on the worker group, or a GPU group for GPU profiles, with the
tolerations of the group's taints); the NetworkPolicy `dask-clusters`, which fences the
schedulers and workers users start as z2jh fences user servers (qhub/platform/network_policies.py); the DaemonSets
`dask-images-<group>` that pull the dask images onto the worker group and the GPU workers' group
(qhub/platform/image_puller.py). Hands the hub a
HubIntegration: the `dask-gateway` service with that token,
the DASK_GATEWAY__* settings of user pods, and the scope user servers need to use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from qhub import versions
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.helm import release
from qhub.platform.checksums import ANNOTATION, secrets_checksum
from qhub.platform.image_puller import image_pullers, node_groups
from qhub.platform.network_policies import dask_cluster_spec, network_policy
from qhub.values import dask_gateway as values
from qhub.values import spawn_speed
from qhub.values.conda_store import CondaMount
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef

TOKEN = SecretKeyRef(name="dask-gateway-token", key="token")


@dataclass(frozen=True)
class DaskGatewayArgs:
    """What the gateway needs besides the config and the cluster."""

    namespace: pulumi.Input[str]
    """The platform namespace (an Output, so the gateway waits for it)."""
    hub_api_url: str
    """In-cluster URL of the hub API, e.g. http://hub.dev:8081/hub/api."""
    conda: CondaMount
    """The read-only volume of conda-store's environments."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """Resources that must exist first (the environments' claim)."""


class DaskGateway(pulumi.ComponentResource):
    """The dask-gateway chart, authenticated through JupyterHub."""

    hub: HubIntegration
    address: str

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, args: DaskGatewayArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:DaskGateway", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)

        # An explicit provider, like every resource of the program (no default providers).
        random_provider = random.Provider(f"{name}-random", opts=pulumi.ResourceOptions(parent=self))
        token = random.RandomPassword(f"{name}-token", length=64, special=False,
                                      opts=pulumi.ResourceOptions(parent=self, provider=random_provider))
        self.token_secret = k8s.core.v1.Secret(
            f"{name}-token",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=TOKEN.name, namespace=args.namespace,
                                                labels={"app.kubernetes.io/part-of": "qhub"}),
            type="Opaque",
            string_data={TOKEN.key: token.result},
            opts=k8s_opts,
        )

        gpu_groups = list(cluster.gpu_node_groups)
        settings = values.gateway_settings(
            config,
            worker_selector=cluster.selector("worker"),
            gpu_selector=cluster.selector(gpu_groups[0]) if gpu_groups else None,
            conda=args.conda,
            placements=cluster.placements(),
        )
        chart_values = values.dask_gateway_values(
            config, settings=settings, general_selector=cluster.selector("general"),
            token=TOKEN, hub_api_url=args.hub_api_url,
        )
        # The gateway reads the token from its Secret at start: a new token rolls it (the chart's
        # own checksums cover only its own ConfigMap and Secret).
        # Beside any annotations of dask_gateway.overrides.
        chart_values["gateway"]["annotations"] = {**(chart_values["gateway"].get("annotations") or {}),
                                                  ANNOTATION: secrets_checksum(name, {TOKEN.key: token.result}, self)}
        self.release = release(
            f"{name}-release", versions.DASK_GATEWAY_CHART, values.RELEASE_NAME, args.namespace,
            chart_values,
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.token_secret, *args.depends_on])),
        )

        # The schedulers' and workers' images, pulled onto the groups they start on as nodes join.
        self.image_pullers = image_pullers(name, spawn_speed.dask_pull_sets(settings, node_groups(cluster)),
                                           args.namespace, k8s_opts)

        # Users' code runs in these pods: the same fence as around user servers.
        network_policy(f"{name}-network-policy", "dask-clusters", args.namespace, dask_cluster_spec(), k8s_opts)

        self.address = values.public_address(config)
        self.hub = HubIntegration(
            services=(HubService(
                name=values.HUB_SERVICE_NAME, api_token=TOKEN, url=values.traefik_url(config.namespace),
                display=False, api_token_value=token.result,
            ),),
            singleuser_env=values.user_environment(config),
            # The gateway checks this scope (jupyterhubServiceName); server tokens lack it by default.
            server_token_scopes=(f"access:services!service={values.HUB_SERVICE_NAME}",),
            egress=(values.user_egress(),),
        )
        self.register_outputs({"address": self.address})
