"""CondaStore: builds the config's conda environments and shares them read-only with every pod.

Creates:
- the Secret `conda-store-secrets` (the session/token secret and the hub service token, both
  random Pulumi secrets) and ConfigMaps with the config module + settings, the environment
  files (watched by the worker, so each is registered and built), and one Jupyter kernelspec
  per environment; the pod carries a checksum of the module and settings and an HMAC of the
  Secret (qhub/platform/checksums.py), so a change of either rolls it;
- the claim `conda-store-storage`, sized `storage.conda_store`, on the cloud layer's own disk
  for it (snapshotted on the cloud's schedule) or the cluster's block storage class, protected,
  grown in place (a PVC size change is an in-place patch; qhub/platform/disks.py);
- one Deployment `conda-store` (Recreate, general group) running the conda-store server, the
  conda-store worker and an NFS server, all on that claim: the database (SQLite) and artifacts
  sit in a directory the NFS server does not export; the store directory is exported;
- Services for the web server and the NFS export, and the read-only ReadWriteMany volume and
  claim `conda-store-environments` on that export, which user and dask pods mount at the
  same absolute path conda-store builds into;
- the route https://<domain>/conda-store of the platform's Ingress (`route`);
- the NetworkPolicy `conda-store` (qhub/platform/network_policies.py): the web server admits
  the ingress controller and labelled in-cluster readers, the NFS export the nodes' addresses.

Every container runs without privilege escalation, capabilities or root, under the runtime's
seccomp profile, except the NFS server, which the kernel's NFS server needs privileged.
conda-store's Prometheus metrics are served at /metrics, outside the public prefix
(qhub/values/conda_store_config.py).

Why one pod: the worker writes environments to a local block volume (fast builds, no SQLite
on NFS); users read them over NFS. Why not a managed NFS (EFS): the claim, its size and its
protection must be the same on every cloud.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from qhub import versions
from qhub.cluster import CONDA_STORE_DISK, ClusterOutputs
from qhub.config import QHubConfig
from qhub.platform.checksums import ANNOTATION, secrets_checksum
from qhub.platform.disks import disk_claim
from qhub.platform.ingress import CONTROLLER_POD_LABELS
from qhub.platform.network_policies import conda_store_spec, network_policy
from qhub.platform.nfs_server import NFS_PORTS, nfs_server_container, nfs_service_ports
from qhub.platform.security import non_root_container, pod_security
from qhub.values import conda_store as values
from qhub.values import conda_store_config
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef
from qhub.values.packed import pack_json
from qhub.values.routes import Route

SECRET_NAME = "conda-store-secrets"
AUTH_SECRET = SecretKeyRef(SECRET_NAME, "auth-secret")
HUB_TOKEN = SecretKeyRef(SECRET_NAME, "hub-api-token")
STORAGE_CLAIM = "conda-store-storage"
_CONFIG_SOURCE = Path(conda_store_config.__file__).read_text()


@dataclass(frozen=True)
class CondaStoreArgs:
    """What conda-store needs besides the config and the cluster."""

    namespace: pulumi.Input[str]
    """The platform namespace (an Output, so conda-store waits for it)."""
    hub_internal_url: str
    """The hub inside the cluster, e.g. http://hub.dev:8081 (token and user look-ups)."""


def _secret_env(name: str, ref: SecretKeyRef) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(name=name, value_from=k8s.core.v1.EnvVarSourceArgs(
        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=ref.name, key=ref.key)))


class CondaStore(pulumi.ComponentResource):
    """conda-store server and worker, their volume, and the read-only share of built environments."""

    hub: HubIntegration
    url: str
    environments_claim: k8s.core.v1.PersistentVolumeClaim

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, args: CondaStoreArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:CondaStore", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        ns = args.namespace
        labels = {"app.kubernetes.io/name": "conda-store", "app.kubernetes.io/part-of": "qhub"}

        def meta(object_name: str, **extra: object) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=ns, labels=labels, **extra)  # type: ignore[arg-type]

        # An explicit provider, like every resource of the program (no default providers).
        random_opts = pulumi.ResourceOptions(parent=self, provider=random.Provider(
            f"{name}-random", opts=pulumi.ResourceOptions(parent=self)))
        auth_secret = random.RandomPassword(f"{name}-auth-secret", length=64, special=False, opts=random_opts)
        hub_token = random.RandomPassword(f"{name}-hub-token", length=64, special=False, opts=random_opts)
        secret_data: dict[str, pulumi.Input[str]] = {AUTH_SECRET.key: auth_secret.result, HUB_TOKEN.key: hub_token.result}
        secret = k8s.core.v1.Secret(
            f"{name}-secrets", metadata=meta(SECRET_NAME), type="Opaque", string_data=secret_data, opts=k8s_opts,
        )

        settings = values.server_settings(config, hub_internal_url=args.hub_internal_url)
        # The settings carry every user's groups (role bindings): compressed, as the hub's data is.
        packed = pack_json(settings, "conda-store's settings (users and their groups)")
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=meta("conda-store-config"),
            data={"conda_store_config.py": _CONFIG_SOURCE},
            binary_data={conda_store_config.SETTINGS_KEY: base64.b64encode(packed).decode()},
            opts=k8s_opts,
        )
        environments = k8s.core.v1.ConfigMap(f"{name}-environments", metadata=meta("conda-store-environments"),
                                             data=values.environment_files(config), opts=k8s_opts)
        k8s.core.v1.ConfigMap(f"{name}-kernels", metadata=meta(values.KERNELS_CONFIGMAP),
                                        data=values.kernel_specs(config), opts=k8s_opts)

        # The built environments: protected, and a bigger storage.conda_store patches it in place.
        # On the cloud layer's own (snapshotted) disk where it has one; protected either way.
        self.storage = disk_claim(
            f"{name}-storage", STORAGE_CLAIM, ns, config.storage.conda_store, cluster.disks.get(CONDA_STORE_DISK),
            cluster.storage_class, {"labels": labels}, k8s_opts,
        )

        pod_labels = {**labels, "app.kubernetes.io/component": "conda-store",
                      # The server calls the hub API (token and user look-ups); z2jh's policy admits this label.
                      "hub.jupyter.org/network-access-hub": "true"}
        checksum = hashlib.sha256(_CONFIG_SOURCE.encode() + b"\0" + packed).hexdigest()
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta("conda-store"),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                # The block volume attaches to one node at a time.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/component": "conda-store", **labels}),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=pod_labels, annotations={
                        # A new config module or settings, or a new secret or hub token, rolls the pod.
                        "checksum/config": checksum,
                        ANNOTATION: secrets_checksum(name, secret_data, self),
                    }),
                    spec=self._pod_spec(config, cluster),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                depends_on=[secret, config_map, environments, self.storage])),
        )

        server_selector = {"app.kubernetes.io/component": "conda-store", **labels}
        self.server_service = k8s.core.v1.Service(
            f"{name}-server-service", metadata=meta("conda-store-server"),
            spec=k8s.core.v1.ServiceSpecArgs(selector=server_selector, ports=[
                k8s.core.v1.ServicePortArgs(name="http", port=values.SERVER_PORT, target_port="http")]),
            opts=k8s_opts,
        )
        nfs_service = k8s.core.v1.Service(
            f"{name}-nfs-service", metadata=meta("conda-store-nfs"),
            spec=k8s.core.v1.ServiceSpecArgs(selector=server_selector, ports=nfs_service_ports()),
            opts=k8s_opts,
        )

        # Nodes mount NFS with their own resolver, which knows no cluster DNS: use the ClusterIP.
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-environments-volume",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=pulumi.Output.concat(ns, "-", values.ENVIRONMENTS_CLAIM), labels=labels),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                capacity={"storage": config.storage.conda_store},
                access_modes=["ReadWriteMany"],
                persistent_volume_reclaim_policy="Retain",
                storage_class_name="",
                mount_options=["nfsvers=4.1", "hard", "timeo=600", "retrans=2"],
                nfs=k8s.core.v1.NFSVolumeSourceArgs(server=nfs_service.spec.cluster_ip, path="/", read_only=True),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.deployment])),
        )
        self.environments_claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-environments-claim",
            metadata=meta(values.ENVIRONMENTS_CLAIM),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"], storage_class_name="", volume_name=volume.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": config.storage.conda_store}),
            ),
            opts=k8s_opts,
        )

        network_policy(f"{name}-network-policy", "conda-store", ns, conda_store_spec(
            server_selector, values.SERVER_PORT, NFS_PORTS["nfs"], cluster.node_cidrs, CONTROLLER_POD_LABELS), k8s_opts)

        # Served under the hub's domain by the platform's one Ingress (qhub/values/routes.py).
        self.route = Route(values.URL_PREFIX, "conda-store-server", values.SERVER_PORT)
        self.url = f"https://{config.domain}{values.URL_PREFIX}"
        mount = values.CondaMount()
        self.hub = HubIntegration(
            services=(HubService(
                name=values.HUB_SERVICE_NAME, api_token=HUB_TOKEN, api_token_value=hub_token.result,
                oauth_redirect_uri=values.oauth_callback_url(config), oauth_no_confirm=True,
            ),),
            singleuser_env={"CONDA_ENVS_PATH": f"{values.STORE_PATH}/{values.FILESYSTEM_NAMESPACE}/envs"},
            volumes=(mount.volume(), {"name": "conda-kernels", "configMap": {
                "name": values.KERNELS_CONFIGMAP, "items": values.kernel_items(config)}}),
            volume_mounts=(mount.volume_mount(),
                           {"name": "conda-kernels", "mountPath": values.KERNELS_PATH, "readOnly": True}),
        )
        self.register_outputs({"url": self.url})

    @staticmethod
    def _pod_spec(config: QHubConfig, cluster: ClusterOutputs) -> k8s.core.v1.PodSpecArgs:
        config_file = f"{values.CONFIG_PATH}/conda_store_config.py"
        store = k8s.core.v1.VolumeMountArgs(name="storage", mount_path=values.STORE_PATH, sub_path="store")
        state = k8s.core.v1.VolumeMountArgs(name="storage", mount_path=values.STATE_PATH, sub_path="state")
        config_mount = k8s.core.v1.VolumeMountArgs(name="config", mount_path=values.CONFIG_PATH, read_only=True)
        env = [_secret_env(conda_store_config.AUTH_SECRET_ENV, AUTH_SECRET),
               _secret_env(conda_store_config.CLIENT_SECRET_ENV, HUB_TOKEN)]
        image = config.default_images.conda_store
        return k8s.core.v1.PodSpecArgs(
            node_selector=cluster.selector("general"),
            # The image's own user; the volume is made group-writable for it (fsGroup), so the
            # server writes its database and the worker builds without root.
            security_context=pod_security(values.STORE_UID, values.STORE_GID, fs_group=values.STORE_GID),
            # conda-store never calls the Kubernetes API.
            automount_service_account_token=False,
            containers=[
                k8s.core.v1.ContainerArgs(
                    name="server", image=image, args=["conda-store-server", "--config", config_file],
                    env=env, volume_mounts=[store, state, config_mount],
                    ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=values.SERVER_PORT)],
                    readiness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(
                        path=f"{values.URL_PREFIX}/api/v1/", port="http")),
                    liveness_probe=k8s.core.v1.ProbeArgs(
                        http_get=k8s.core.v1.HTTPGetActionArgs(path=f"{values.URL_PREFIX}/api/v1/", port="http"),
                        # Database migrations run before the server listens.
                        initial_delay_seconds=60, period_seconds=30, failure_threshold=5),
                    security_context=non_root_container(),
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "100m", "memory": "512Mi"},
                                                                   limits={"memory": "2Gi"}),
                ),
                k8s.core.v1.ContainerArgs(
                    # Builds as the image's user, who owns what it builds (default_uid/gid).
                    name="worker", image=image, args=["conda-store-worker", "--config", config_file],
                    env=env, security_context=non_root_container(),
                    volume_mounts=[store, state, config_mount,
                                   k8s.core.v1.VolumeMountArgs(name="environments", mount_path=values.ENVIRONMENTS_PATH, read_only=True)],
                    # Solving a large environment takes several GiB; the limit keeps a runaway
                    # build from taking the node's memory from the hub.
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": "500m", "memory": "2Gi"},
                                                                   limits={"memory": "8Gi"}),
                ),
                nfs_server_container("storage", sub_path="store"),
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(name="storage", persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=STORAGE_CLAIM)),
                k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name="conda-store-config")),
                k8s.core.v1.VolumeArgs(name="environments", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name="conda-store-environments")),
            ],
        )
