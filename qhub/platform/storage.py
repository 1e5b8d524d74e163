"""SharedStorage: the ReadWriteMany volume holding /home/<user> and /home/shared/<group>.

Creates, when the cluster has managed NFS (EFS, Filestore, Azure Files NFS):
  a static NFS PersistentVolume on it and the ReadWriteMany claim bound to it.
Otherwise, an in-cluster NFS server:
  a claim sized `storage.shared_filesystem` on the cloud layer's own disk for it, snapshotted on
  the cloud's schedule, or on the cluster's block storage class (qhub/platform/disks.py),
  the NFS server Deployment on the general group, its Service, its NetworkPolicy (NFS from
  the nodes' addresses only, no egress), and the NFS volume and ReadWriteMany claim on top.

Every claim and volume holding user data is protected (`protect`, and `retain_on_delete` so
that even a forced removal from the stack leaves the data). Growing `shared_filesystem` patches
the disk claim's request in place (volume expansion; pulumi-kubernetes 4.x replaces a PVC only
for accessModes, selector, storageClassName or volumeName); the NFS claim asks for a fixed
nominal size, because NFS ignores it and a statically bound claim cannot be resized.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import SHARED_DISK, ClusterOutputs
from qhub.platform.disks import disk_claim
from qhub.platform.network_policies import network_policy, nfs_server_spec
from qhub.platform.nfs_server import NFS_PORTS, nfs_server_container, nfs_service_ports
from qhub.platform.security import pod_security

# The claim user pods mount; other components (conda-store, ssh) refer to it by this name.
SHARED_CLAIM = "qhub-shared"
# What the NFS claim asks for; the real size is the disk's (in-cluster) or unlimited (EFS).
NOMINAL_NFS_SIZE = "1Gi"
class SharedStorage(pulumi.ComponentResource):
    """The shared drive of the platform, on managed NFS or an in-cluster NFS server."""

    claim_name: str
    """Name of the ReadWriteMany claim in the platform namespace."""

    def __init__(self, name: str, namespace: pulumi.Input[str], size: str, cluster: ClusterOutputs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:SharedStorage", name, None, opts)
        self.claim_name = SHARED_CLAIM
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider)
        # Data-bearing: never deleted by Pulumi, not even when removed from the program.
        keep = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
        labels = {"app.kubernetes.io/part-of": "qhub", "app.kubernetes.io/component": "shared-storage"}

        if cluster.nfs is not None:
            server: pulumi.Input[str] = cluster.nfs.server
            path, mount_options = cluster.nfs.path, list(cluster.nfs.mount_options)
            capacity = size
            self.disk_claim: k8s.core.v1.PersistentVolumeClaim | None = None
        else:
            self.disk_claim = disk_claim(
                f"{name}-nfs-disk", "qhub-nfs-server-data", namespace, size, cluster.disks.get(SHARED_DISK),
                cluster.storage_class,
                # On WaitForFirstConsumer classes the claim binds only when the NFS server
                # (created after it) mounts it; waiting for Bound here would deadlock.
                {"labels": labels, "annotations": {"pulumi.com/skipAwait": "true"}},
                k8s_opts,
            )
            server_labels = {**labels, "app.kubernetes.io/name": "qhub-nfs-server"}
            self.server = k8s.apps.v1.Deployment(
                f"{name}-nfs-server",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="qhub-nfs-server", namespace=namespace, labels=server_labels),
                spec=k8s.apps.v1.DeploymentSpecArgs(
                    replicas=1,
                    # One pod owns the ReadWriteOnce disk: the old one must stop before the new starts.
                    strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": "qhub-nfs-server"}),
                    template=k8s.core.v1.PodTemplateSpecArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(labels=server_labels),
                        spec=k8s.core.v1.PodSpecArgs(
                            node_selector=cluster.selector("general"),
                            security_context=pod_security(),
                            automount_service_account_token=False,
                            containers=[nfs_server_container("data")],
                            volumes=[k8s.core.v1.VolumeArgs(
                                name="data",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name="qhub-nfs-server-data"),
                            )],
                        ),
                    ),
                ),
                opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.disk_claim])),
            )
            self.service = k8s.core.v1.Service(
                f"{name}-nfs-service",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="qhub-nfs-server", namespace=namespace, labels=labels),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="ClusterIP",
                    selector={"app.kubernetes.io/name": "qhub-nfs-server"},
                    ports=nfs_service_ports(),
                ),
                opts=k8s_opts,
            )
            network_policy(f"{name}-nfs-network-policy", "qhub-nfs-server", namespace, nfs_server_spec(
                {"app.kubernetes.io/name": "qhub-nfs-server"}, NFS_PORTS["nfs"], cluster.node_cidrs), k8s_opts)
            # Nodes mount NFS with their own resolver, which does not know cluster DNS names,
            # so the volume names the Service's cluster IP (stable for the Service's lifetime).
            server = self.service.spec.cluster_ip
            path, mount_options = "/", ["nfsvers=4.1", "hard", "timeo=600", "retrans=2"]
            capacity = size

        # PersistentVolumes are cluster-wide: the namespace keeps two platforms on one cluster apart.
        volume_name = pulumi.Output.from_input(namespace).apply(lambda ns: f"{ns}-qhub-shared")
        self.volume = k8s.core.v1.PersistentVolume(
            f"{name}-volume",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=volume_name, labels=labels),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                access_modes=["ReadWriteMany"],
                capacity={"storage": capacity},
                # Static binding: no class, so no provisioner ever touches it.
                storage_class_name="",
                persistent_volume_reclaim_policy="Retain",
                mount_options=mount_options,
                nfs=k8s.core.v1.NFSVolumeSourceArgs(server=server, path=path),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, keep),
        )
        self.claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SHARED_CLAIM, namespace=namespace, labels=labels),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name="",
                volume_name=self.volume.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": NOMINAL_NFS_SIZE}),
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, keep),
        )
        self.register_outputs({"claim_name": self.claim.metadata.name, "volume_name": self.volume.metadata.name})
