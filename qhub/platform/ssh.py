"""Ssh: terminal access to user servers over ssh, logging in with JupyterHub tokens.

Creates: an ED25519 host key (pulumi_tls.PrivateKey, a Pulumi secret) in the Secret
`jupyterhub-ssh` with the server config; one Deployment `jupyterhub-ssh` (general group) with
the pinned jupyterhub-ssh `ssh` container (port 8022); and a LoadBalancer Service
`jupyterhub-ssh` exposing port 22.

Why our own Deployment and not the chart: see qhub/values/ssh.py (the chart wants the host key
as a Helm value). Why a LoadBalancer of its own and not the ingress controller's TCP
(TransportServer + GlobalConfiguration listeners): SSH then depends on no NGINX custom
resource or controller listener (neither exists before the ingress release, which breaks a
first preview), and raw TCP needs no TLS or host routing from NGINX. The cost is one more
cloud load balancer; its address is the `ssh_command` output. The NetworkPolicy
`jupyterhub-ssh` admits the ssh port from anywhere and lets the pod reach only DNS, the hub
and the proxy.

Who a login is: the ssh server (jupyterhub_ssh/__init__.py at e5107a4, the pinned image's
source) takes the login name and the token given as password and asks the hub, with that
token, to start `/hub/api/users/<login name>/server`; only a 201, 202 (then ready) or 400
(already running) lets the login in, and the terminal is then opened at the server's URL with
the same token. The hub answers that request only for a token with the `servers` scope on that
user (JupyterHub 5.5's `needs_scope("servers")`): a user's own token, or an admin's; another
user's token gets 403 and the login fails. So the login name is bound to the token's owner.

No SFTP: the image jupyterhub-ssh publishes for it (sftp at 402a3d6) lets any user into any
home. Its PAM check (jupyterhub-token-verify.py) accepts a token valid for *some* hub user
(`GET /hub/api/user`, never compared with the login name); it bind-mounts
`<homes>/<escaped, lowercased name>` (`lin-wei` -> `lin-2dwei`) while QHub's homes are
`/home/<name>`; and every session runs as uid 1000 (NSS all-to-one), while each home belongs to
its user's uid with mode 0700. None of that is configuration, so QHub does not run it; files
move through JupyterLab (README, Using the platform).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from qhub import versions
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.platform.checksums import ANNOTATION, secrets_checksum
from qhub.platform.network_policies import network_policy, ssh_spec
from qhub.platform.security import non_root_container, pod_security
from qhub.values import ssh as values

SECRET_NAME = "jupyterhub-ssh"


@dataclass(frozen=True)
class SshArgs:
    """What SSH access needs besides the config and the cluster."""

    namespace: pulumi.Input[str]
    """The platform namespace."""


def _address(status: object) -> str | None:
    """Hostname or IP of a LoadBalancer Service's status, None until the cloud assigns one."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    for entry in ingress:
        address = getattr(entry, "hostname", None) or getattr(entry, "ip", None)
        if address:
            return str(address)
    return None


class Ssh(pulumi.ComponentResource):
    """jupyterhub-ssh behind its own load balancer."""

    command: pulumi.Output[str]

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, args: SshArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:Ssh", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        labels = {"app.kubernetes.io/name": "jupyterhub-ssh", "app.kubernetes.io/part-of": "qhub"}

        # An explicit provider, like every resource of the program (no default providers).
        tls_provider = tls.Provider(f"{name}-tls", opts=pulumi.ResourceOptions(parent=self))
        host_key = tls.PrivateKey(f"{name}-host-key", algorithm="ED25519",
                                  opts=pulumi.ResourceOptions(parent=self, provider=tls_provider))
        secret_data: dict[str, pulumi.Input[str]] = {
            "hostKey": pulumi.Output.secret(host_key.private_key_openssh),
            "values.yaml": values.server_config(config),
        }
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_NAME, namespace=args.namespace, labels=labels),
            type="Opaque",
            string_data=secret_data,
            opts=k8s_opts,
        )

        pod_labels = {**labels, "app.kubernetes.io/component": "ssh",
                      # The server calls the hub API and opens user servers through the proxy.
                      "hub.jupyter.org/network-access-hub": "true",
                      "hub.jupyter.org/network-access-proxy-http": "true"}
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="jupyterhub-ssh", namespace=args.namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels={**labels, "app.kubernetes.io/component": "ssh"}),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=pod_labels, annotations={
                        # A new host key or config restarts the server (qhub/platform/checksums.py).
                        ANNOTATION: secrets_checksum(name, secret_data, self),
                    }),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        node_selector=cluster.selector("general"),
                        # The image's own user, by number: with a user name instead, the kubelet
                        # could not check runAsNonRoot and would refuse to start the container.
                        security_context=pod_security(values.IMAGE_UID, values.IMAGE_GID),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="ssh", image=versions.JUPYTERHUB_SSH_IMAGE,
                                security_context=non_root_container(),
                                ports=[k8s.core.v1.ContainerPortArgs(name="ssh", container_port=8022)],
                                liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="ssh"),
                                                                     initial_delay_seconds=10, period_seconds=30),
                                readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="ssh")),
                                resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "50m", "memory": "128Mi"},
                                                                               limits={"memory": "512Mi"}),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="config", mount_path=values.SSH_CONFIG_DIR, read_only=True)],
                            ),
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(name="config", secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=SECRET_NAME)),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[secret])),
        )
        network_policy(f"{name}-network-policy", "jupyterhub-ssh", args.namespace,
                       ssh_spec({**labels, "app.kubernetes.io/component": "ssh"}, ["ssh"]), k8s_opts)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="jupyterhub-ssh", namespace=args.namespace, labels=labels,
                                                annotations=dict(cluster.ingress_service_annotations)),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector={**labels, "app.kubernetes.io/component": "ssh"},
                ports=[
                    k8s.core.v1.ServicePortArgs(name="ssh", port=values.SSH_PORT, target_port="ssh", protocol="TCP"),
                ],
            ),
            opts=k8s_opts,
        )
        self.command = self.service.status.apply(lambda status: values.ssh_command(_address(status)))
        self.register_outputs({"command": self.command})
