"""Ssh: terminal (ssh) and file (sftp) access to user servers, logging in with JupyterHub tokens.

Creates: an ED25519 host key (pulumi_tls.PrivateKey, a Pulumi secret) in the Secret
`jupyterhub-ssh` with the server config; one Deployment `jupyterhub-ssh` (general group) with
the pinned jupyterhub-ssh `ssh` container (port 8022) and `sftp` container (port 2222, over the
users' home folders); and a LoadBalancer Service `jupyterhub-ssh` exposing 22 and 2222.

Why our own Deployment and not the chart: see qhub/values/ssh.py (the chart wants the host key
as a Helm value). Why a LoadBalancer of its own and not the ingress controller's TCP
(TransportServer + GlobalConfiguration listeners): SSH then depends on no NGINX custom
resource or controller listener (neither exists before the ingress release, which breaks a
first preview), and raw TCP needs no TLS or host routing from NGINX. The cost is one more
cloud load balancer; its address is the `ssh_command` output. Both containers share one pod
so one Service, with one address, serves both ports. The NetworkPolicy `jupyterhub-ssh` admits
the two ports from anywhere and lets the pod reach only DNS, the hub and the proxy.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from qhub import versions
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.platform.network_policies import network_policy, ssh_spec
from qhub.platform.security import non_root_container, pod_security, privileged_container
from qhub.values import ssh as values

SECRET_NAME = "jupyterhub-ssh"


@dataclass(frozen=True)
class SshArgs:
    """What SSH access needs besides the config and the cluster."""

    namespace: pulumi.Input[str]
    """The platform namespace."""
    home_claim: pulumi.Input[str]
    """The shared storage claim holding users' homes (sftp serves them)."""
    home_sub_path: str = "home"
    """Folder of that claim with one folder per user."""


def _address(status: object) -> str | None:
    """Hostname or IP of a LoadBalancer Service's status, None until the cloud assigns one."""
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    for entry in ingress:
        address = getattr(entry, "hostname", None) or getattr(entry, "ip", None)
        if address:
            return str(address)
    return None


class Ssh(pulumi.ComponentResource):
    """jupyterhub-ssh and jupyterhub-sftp behind their own load balancer."""

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
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_NAME, namespace=args.namespace, labels=labels),
            type="Opaque",
            string_data={
                "hostKey": pulumi.Output.secret(host_key.private_key_openssh),
                "hubUrl": values.hub_url(config),
                "values.yaml": values.server_config(config),
            },
            opts=k8s_opts,
        )

        pod_labels = {**labels, "app.kubernetes.io/component": "ssh",
                      # Both servers call the hub API and open user servers through the proxy.
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
                        # A new host key or config restarts the servers.
                        "checksum/config": host_key.public_key_fingerprint_sha256.apply(lambda f: f or ""),
                    }),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        node_selector=cluster.selector("general"),
                        security_context=pod_security(),
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
                            k8s.core.v1.ContainerArgs(
                                # sshd chroots each login into its home folder and switches to the
                                # user's uid, which needs root; jupyterhub-ssh's chart runs it
                                # privileged, and it is untested with less.
                                name="sftp", image=versions.JUPYTERHUB_SFTP_IMAGE,
                                security_context=privileged_container(),
                                ports=[k8s.core.v1.ContainerPortArgs(name="sftp", container_port=2222)],
                                liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="sftp"),
                                                                     initial_delay_seconds=10, period_seconds=30),
                                readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="sftp")),
                                resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "50m", "memory": "128Mi"},
                                                                               limits={"memory": "1Gi"}),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="home", mount_path=values.HOME_MOUNT, sub_path=args.home_sub_path),
                                    k8s.core.v1.VolumeMountArgs(name="sftp-config", mount_path=values.SFTP_CONFIG_DIR, read_only=True),
                                ],
                            ),
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(name="config", secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=SECRET_NAME)),
                            k8s.core.v1.VolumeArgs(name="sftp-config", secret=k8s.core.v1.SecretVolumeSourceArgs(
                                secret_name=SECRET_NAME, items=[
                                    # sshd refuses a host key others can read.
                                    k8s.core.v1.KeyToPathArgs(key="hostKey", path="hostKey", mode=0o400),
                                    k8s.core.v1.KeyToPathArgs(key="hubUrl", path="hubUrl"),
                                ])),
                            k8s.core.v1.VolumeArgs(name="home", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=args.home_claim)),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[secret])),
        )
        network_policy(f"{name}-network-policy", "jupyterhub-ssh", args.namespace,
                       ssh_spec({**labels, "app.kubernetes.io/component": "ssh"}, ["ssh", "sftp"]), k8s_opts)
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="jupyterhub-ssh", namespace=args.namespace, labels=labels,
                                                annotations=dict(cluster.ingress_service_annotations)),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector={**labels, "app.kubernetes.io/component": "ssh"},
                ports=[
                    k8s.core.v1.ServicePortArgs(name="ssh", port=values.SSH_PORT, target_port="ssh", protocol="TCP"),
                    k8s.core.v1.ServicePortArgs(name="sftp", port=values.SFTP_PORT, target_port="sftp", protocol="TCP"),
                ],
            ),
            opts=k8s_opts,
        )
        self.command = self.service.status.apply(lambda status: values.ssh_command(_address(status)))
        self.register_outputs({"command": self.command})
