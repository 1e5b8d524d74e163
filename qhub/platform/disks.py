"""A ReadWriteOnce claim on a block disk that holds users' data (the NFS server's, conda-store's).

Creates, when the cloud layer owns a disk for the claim's role (ClusterOutputs.disks): a
PersistentVolume on that disk through its CSI driver, bound to this claim only, with the
claim on top. The disk then lives outside the cluster (deleting the cluster leaves it) and is
snapshotted on the cloud's schedule. Otherwise: a claim the cluster's storage class provisions.

Both are protected (`protect`, and `retain_on_delete` so that even a forced removal from the
stack leaves the data). A bigger size patches the claim's request in place: the CSI resizer grows
the disk and its file system. The volume's recorded capacity is left to the resizer after
creation, since it decides from the volume's capacity whether the disk still has to grow.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import CloudDisk


def disk_claim(
    name: str, claim_name: str, namespace: pulumi.Input[str], size: str, disk: CloudDisk | None,
    storage_class: str, metadata: Mapping[str, Mapping[str, str]], opts: pulumi.ResourceOptions,
) -> k8s.core.v1.PersistentVolumeClaim:
    """The claim `claim_name` of `size`, on the cloud's `disk` or on `storage_class`.

    `metadata` holds the claim's "labels" and "annotations"; `opts` its parent and provider.
    """
    labels = dict(metadata.get("labels", {}))
    keep = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
    volume_name: pulumi.Input[str] | None = None
    after: list[pulumi.Resource] = []
    if disk is not None:
        volume = _disk_volume(f"{name}-volume", claim_name, namespace, disk, storage_class, labels,
                              pulumi.ResourceOptions.merge(opts, keep))
        volume_name = volume.metadata.name
        after.append(volume)
    return k8s.core.v1.PersistentVolumeClaim(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=claim_name, namespace=namespace, labels=labels, annotations=dict(metadata.get("annotations", {})) or None,
        ),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            # The class also on a bound volume: its allowVolumeExpansion lets the claim grow.
            storage_class_name=storage_class,
            volume_name=volume_name,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True, depends_on=after)),
    )


def _disk_volume(name: str, claim_name: str, namespace: pulumi.Input[str], disk: CloudDisk, storage_class: str,
                 labels: Mapping[str, str], opts: pulumi.ResourceOptions) -> k8s.core.v1.PersistentVolume:
    """The volume on the cloud's disk, reserved for the claim (no other claim can take it)."""
    affinity = None
    if disk.zone is not None and disk.zone_label is not None:
        affinity = k8s.core.v1.VolumeNodeAffinityArgs(required=k8s.core.v1.NodeSelectorArgs(node_selector_terms=[
            k8s.core.v1.NodeSelectorTermArgs(match_expressions=[
                k8s.core.v1.NodeSelectorRequirementArgs(key=disk.zone_label, operator="In", values=[disk.zone]),
            ]),
        ]))
    # PersistentVolumes are cluster-wide: the namespace keeps two platforms on one cluster apart.
    volume_name = pulumi.Output.from_input(namespace).apply(lambda ns: f"{ns}-{claim_name}")
    return k8s.core.v1.PersistentVolume(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=volume_name, labels=dict(labels)),
        spec=k8s.core.v1.PersistentVolumeSpecArgs(
            access_modes=["ReadWriteOnce"],
            capacity={"storage": disk.size},
            storage_class_name=storage_class,
            persistent_volume_reclaim_policy="Retain",
            claim_ref=k8s.core.v1.ObjectReferenceArgs(namespace=namespace, name=claim_name),
            csi=k8s.core.v1.CSIPersistentVolumeSourceArgs(driver=disk.csi_driver, volume_handle=disk.volume_handle, fs_type=disk.fs_type),
            node_affinity=affinity,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            depends_on=list(disk.ready),
            # After creation the CSI resizer records the grown capacity; Pulumi must not set it first.
            ignore_changes=["spec.capacity"],
        )),
    )
