"""Platform: the component that holds every Kubernetes-level part of a stack.

Creates, in this order: the platform namespace; the shared storage (SharedStorage); the NGINX
ingress controller (IngressController); cert-manager and its ClusterIssuers (CertManager); the
Auth0 application when the config asks the program to create it (Auth0Application); a random
admin password for password login; then the platform services (dask-gateway, conda-store, SSH,
and with `monitoring.enabled` Prometheus and Grafana) whose HubIntegrations the hub takes; JupyterHub; the `helm_extensions` charts (Extensions);
and last the platform's Ingresses for `domain` (qhub/values/routes.py): a mergeable master with
TLS, and minions routing `/` to the hub, `/conda-store` to conda-store, `/monitoring` to Grafana
(when monitoring is on) and each extension's route to its Service.

Attributes other components use: `namespace_name`, `shared_claim`, `node_selectors`,
`ingress_class`, `cluster_issuer`, `tls_secret`, `domain`, `k8s_opts`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.security import Auth0Auth, GitHubAuth, PasswordAuth
from qhub.platform.auth0 import Auth0Application, auth0_domain
from qhub.platform.conda_store import CondaStore, CondaStoreArgs
from qhub.platform.dask_gateway import DaskGateway, DaskGatewayArgs
from qhub.platform.extensions import Extensions
from qhub.platform.ingress import IngressController
from qhub.platform.jupyterhub import JupyterHub
from qhub.platform.monitoring import Monitoring
from qhub.platform.ssh import Ssh, SshArgs
from qhub.platform.storage import SharedStorage
from qhub.platform.tls import CertManager
from qhub.values.routes import ingress_manifests
from qhub.stack import StackSecrets
from qhub.values.conda_store import CondaMount
from qhub.values.hub_integration import HubIntegration


class Platform(pulumi.ComponentResource):
    """All platform services of one stack, on one cluster."""

    exports: dict[str, pulumi.Input[Any]]

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, secrets: StackSecrets,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:Platform", name, None, opts)
        self.config = config
        self.cluster = cluster
        self.domain = config.domain
        self.node_selectors = {group: cluster.selector(group) for group in cluster.node_selectors}
        # Every Kubernetes child: this component as parent, the cluster's provider, and only
        # once the cluster's node groups and add-ons are ready.
        self.k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=list(cluster.ready))
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=config.namespace, labels={"app.kubernetes.io/part-of": "qhub"}),
            opts=self.k8s_opts,
        )
        self.namespace_name = config.namespace
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace, *cluster.ready])

        self.storage = SharedStorage(f"{name}-storage", config.namespace, config.storage.shared_filesystem, cluster, opts=in_namespace)
        self.shared_claim = self.storage.claim_name
        self.ingress = IngressController(f"{name}-ingress", config.namespace, cluster, opts=in_namespace)
        self.ingress_class = self.ingress.ingress_class
        self.tls = CertManager(f"{name}-tls", config.namespace, config.certificate, self.ingress_class, cluster, opts=in_namespace)
        self.cluster_issuer = self.tls.cluster_issuer
        self.tls_secret = self.tls.tls_secret
        login = self._login(name, secrets)

        # Platform services add their HubIntegration here (dask-gateway, conda-store, ssh).
        hub_internal = f"http://hub.{config.namespace}:8081"
        self.conda_store = CondaStore(f"{name}-conda-store", config, cluster, CondaStoreArgs(
            namespace=config.namespace, hub_internal_url=hub_internal), opts=in_namespace)
        self.dask_gateway = DaskGateway(f"{name}-dask-gateway", config, cluster, DaskGatewayArgs(
            namespace=config.namespace, hub_api_url=f"{hub_internal}/hub/api", conda=CondaMount(),
            depends_on=(self.conda_store.environments_claim,)), opts=in_namespace)
        self.ssh = Ssh(f"{name}-ssh", config, cluster, SshArgs(namespace=config.namespace), opts=in_namespace)
        integrations: list[HubIntegration] = [self.dask_gateway.hub, self.conda_store.hub]
        # Prometheus and Grafana (monitoring.enabled): the hub takes their services, the Ingress their route.
        self.monitoring = Monitoring(f"{name}-monitoring", config, cluster, config.namespace, hub_internal,
                                     opts=in_namespace) if config.monitoring.enabled else None
        if self.monitoring:
            integrations.append(self.monitoring.hub)
        self.hub = JupyterHub(
            f"{name}-jupyterhub", config, cluster,
            namespace=config.namespace, shared_claim=self.shared_claim, integrations=integrations,
            depends_on=[self.storage, *(self.monitoring.secrets if self.monitoring else [])],
            opts=in_namespace, **login,
        )
        # The admin's extra charts, after every release of the platform; their routes join the Ingresses.
        self.extensions = Extensions(
            f"{name}-extensions", config, cluster, opts=in_namespace,
            after=[self.ingress, self.tls, self.conda_store, self.dask_gateway, self.ssh, self.hub,
                   *([self.monitoring] if self.monitoring else [])],
        ) if config.helm_extensions else None
        extension_routes = self.extensions.routes if self.extensions else []
        master, *minions = ingress_manifests(config.domain, config.namespace, self.ingress_class, self.tls_secret,
                                             self.cluster_issuer, [self.hub.route, self.conda_store.route,
                                              *([self.monitoring.route] if self.monitoring else []), *extension_routes])
        # The Ingresses need the controller's class and cert-manager's issuers to exist. The
        # master keeps the logical name of the single Ingress it replaced, so it updates in place.
        ingress_opts = pulumi.ResourceOptions.merge(
            self.k8s_opts, pulumi.ResourceOptions(depends_on=[self.namespace, self.ingress, self.tls]))
        self.routes = k8s.networking.v1.Ingress(f"{name}-routes", metadata=master["metadata"], spec=master["spec"],
                                                opts=ingress_opts)
        self.route_minions = [
            k8s.networking.v1.Ingress(f"{name}-route-{minion['metadata']['name']}", metadata=minion["metadata"],
                                      spec=minion["spec"], opts=ingress_opts if not self.extensions else
                                      pulumi.ResourceOptions.merge(ingress_opts, self.extensions.namespace_opts(minion)))
            for minion in minions
        ]

        address = self.ingress.address
        record_type = self.ingress.address_is_ip.apply(lambda is_ip: "A" if is_ip else "CNAME")
        self.exports = {
            "namespace": self.namespace.metadata.name,
            "hub_url": self.hub.url,
            "load_balancer_address": address,
            "dns_record": pulumi.Output.all(record_type, address).apply(
                lambda parts: {"name": config.domain, "type": parts[0], "value": parts[1]}
            ),
        }
        self.exports.update({
            "dask_gateway_address": self.dask_gateway.address,
            "conda_store_url": self.conda_store.url,
            "ssh_command": self.ssh.command,
        })
        if self.monitoring:
            self.exports["grafana_url"] = self.monitoring.url
        if self.extensions:
            self.exports["helm_extensions"] = self.extensions.summary
        if hasattr(self, "hub_passwords"):
            self.exports["hub_password"] = self.hub_passwords["user"]
            self.exports["hub_admin_password"] = self.hub_passwords["admin"]
        self.register_outputs(self.exports)

    def _login(self, name: str, secrets: StackSecrets) -> dict[str, Any]:
        """The hub's login credentials: OAuth client id/secret/domain or the passwords."""
        auth = self.config.security.authentication
        if isinstance(auth, Auth0Auth) and auth.config.provisioned:
            self.auth0 = Auth0Application(f"{name}-auth0", auth.config, self.config.domain, opts=pulumi.ResourceOptions(parent=self))
            return {"oauth_client_id": self.auth0.client_id, "oauth_client_secret": self.auth0.client_secret,
                    "auth0_domain": self.auth0.domain}
        if isinstance(auth, (GitHubAuth, Auth0Auth)):
            client_secret = secrets.oauth_client_secret
            if client_secret is None:
                message = (f"{auth.type} login needs the OAuth client secret: "
                           "pulumi config set --secret qhub:oauthClientSecret <secret>")
                if not pulumi.runtime.is_dry_run():
                    # An update would deploy a hub nobody can log in to.
                    raise pulumi.RunError(message)
                # Previews (offline plans, PR previews without the stack's secrets) go on.
                pulumi.log.warn(message, self)
            login: dict[str, Any] = {"oauth_client_id": auth.config.client_id, "oauth_client_secret": client_secret}
            if isinstance(auth, Auth0Auth):
                assert auth.config.auth0_subdomain is not None  # required with a client_id by the config model
                login["auth0_domain"] = auth0_domain(auth.config.auth0_subdomain)
            return login
        assert isinstance(auth, PasswordAuth)
        # Admins need their own password (JupyterHub: 32+ characters, unlike the users').
        admin = random.RandomPassword(f"{name}-hub-admin-password", length=40, special=False,
                                      opts=pulumi.ResourceOptions(parent=self))
        password: pulumi.Input[str]
        if secrets.hub_password is not None:
            password = secrets.hub_password
        else:
            generated = random.RandomPassword(f"{name}-hub-password", length=24, special=False,
                                              opts=pulumi.ResourceOptions(parent=self))
            password = generated.result
        self.hub_passwords = {"user": pulumi.Output.secret(password), "admin": pulumi.Output.secret(admin.result)}
        return {"password": password, "admin_password": admin.result}
