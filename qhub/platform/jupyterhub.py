"""JupyterHub: the z2jh release and the Secret its login needs.

Creates: the `qhub-hub-secrets` Secret (OAuth client secret, or the shared user and admin
passwords) from Pulumi secrets, with an HMAC of its content and of the services' API tokens on
the hub's pod so that a rotated secret or token rolls the hub (qhub/platform/checksums.py), the `qhub-hub-config` ConfigMap with QHub's hub-side module
(qhub/values/hub_config/qhub_hub.py, verbatim) and its data (users, groups, profiles, services:
compressed JSON in binaryData), and the `jupyterhub` Helm release whose values
(qhub.values.jupyterhub) reach that Secret only by secretKeyRef. Hub, proxy and user scheduler
run on the general group, user servers on the user group; the hub is served at
https://<domain>/ through the NGINX ingress. The images of profiles that start on other groups
(GPU profiles) are pulled onto those groups by QHub's DaemonSets `jupyterlab-images-<group>`
(qhub/platform/image_puller.py); z2jh's continuous puller covers the user group.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.helm import release
from qhub.platform.checksums import ANNOTATION, secrets_checksum
from qhub.platform.image_puller import image_pullers, node_groups
from qhub.values.hub_integration import HubIntegration
from qhub.values.jupyterhub import (
    HUB_CONFIG_KEY, HUB_CONFIG_MAP, HUB_DATA_KEY, PROXY_SERVICE, HubFacts, HubSecrets, hub_files, jupyterhub_values,
    profile_entries,
)
from qhub.values.spawn_speed import init_images, jupyterlab_pull_sets
from qhub.values.routes import Route
from qhub.versions import BUSYBOX_IMAGE, JUPYTERHUB_CHART

HUB_SECRET = "qhub-hub-secrets"


class JupyterHub(pulumi.ComponentResource):
    """The hub of one stack and everything only it uses."""

    url: str
    """Public URL of the hub."""
    route: Route
    """The path of the platform's Ingress the hub serves."""

    def __init__(
        self, name: str, config: QHubConfig, cluster: ClusterOutputs, *,
        namespace: str, shared_claim: str,
        oauth_client_id: pulumi.Input[str] | None = None, oauth_client_secret: pulumi.Input[str] | None = None,
        auth0_domain: pulumi.Input[str] | None = None,
        password: pulumi.Input[str] | None = None, admin_password: pulumi.Input[str] | None = None,
        integrations: Sequence[HubIntegration] = (),
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("qhub:platform:JupyterHub", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        string_data: dict[str, pulumi.Input[str]] = {}
        keys = HubSecrets(HUB_SECRET)
        if oauth_client_id is not None:
            # The key is referenced even while the secret is unset (a warning says so), so the
            # hub fails visibly at start rather than running without login.
            if oauth_client_secret is not None:
                string_data["oauth-client-secret"] = oauth_client_secret
            keys = HubSecrets(HUB_SECRET, oauth_client_secret_key="oauth-client-secret")
        if password is not None and admin_password is not None:
            string_data["hub-password"] = password
            string_data["hub-admin-password"] = admin_password
            keys = HubSecrets(HUB_SECRET, password_key="hub-password", admin_password_key="hub-admin-password")
        self.secret = k8s.core.v1.Secret(
            f"{name}-secrets",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=HUB_SECRET, namespace=namespace,
                                                labels={"app.kubernetes.io/part-of": "qhub"}),
            type="Opaque",
            # Wrapped again so the values stay secret in state even if a caller passed plain text.
            string_data={key: pulumi.Output.secret(value) for key, value in string_data.items()},
            opts=k8s_opts,
        )
        service_tokens: dict[str, pulumi.Input[str]] = {
            f"service-token/{service.name}": service.api_token_value
            for integration in integrations for service in integration.services if service.api_token_value is not None
        }
        facts = HubFacts(
            general_selector=cluster.selector("general"),
            user_selector=cluster.selector("user"),
            gpu_selector=cluster.selector(cluster.gpu_node_groups[0]) if cluster.gpu_node_groups else None,
            shared_claim=shared_claim,
            secrets=keys,
            oauth_client_id=oauth_client_id,
            auth0_domain=auth0_domain,
            init_image=BUSYBOX_IMAGE,
            placements=cluster.placements(),
            # A rotated OAuth secret, password or service token (read from the services' own
            # Secrets) rolls the hub (see qhub/platform/checksums.py).
            extra={"hub": {"annotations": {ANNOTATION: secrets_checksum(name, {**string_data, **service_tokens}, self)}}},
        )
        files = hub_files(config, facts, integrations)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=HUB_CONFIG_MAP, namespace=namespace,
                                                labels={"app.kubernetes.io/part-of": "qhub"}),
            data={HUB_CONFIG_KEY: files.module},
            # One string however many users: Pulumi serializes and diffs it as one value.
            binary_data={HUB_DATA_KEY: base64.b64encode(files.data).decode("ascii")},
            opts=k8s_opts,
        )
        self.values = jupyterhub_values(config, facts, integrations, files)
        self.release = release(
            f"{name}-release", JUPYTERHUB_CHART, "jupyterhub", namespace, self.values,
            pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.secret, self.config_map, *depends_on])),
            # The hub's first start pulls images and creates its database volume.
            timeout=900,
        )
        # The images of profiles that start off the user group (GPU profiles), pulled onto their
        # own groups only; z2jh's continuous puller (in the values) covers the user group.
        self.image_pullers = image_pullers(name, jupyterlab_pull_sets(
            profile_entries(config, facts), node_groups(cluster), "user", init_images(facts.init_image)), namespace, k8s_opts)
        self.url = f"https://{config.domain}/"
        # Everything under the domain not claimed by another service goes to the hub's proxy.
        self.route = Route("/", PROXY_SERVICE, 80, websocket=True)
        self.register_outputs({"url": self.url})
