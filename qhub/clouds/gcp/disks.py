"""The persistent disks holding users' data, owned by the stack, and their snapshot schedule.

Creates: a zonal pd-balanced `gcp.compute.Disk` for the in-cluster NFS server (home and group
folders) and one for conda-store, in the zone of the nodes, protected; and, when `backups` is
on, one snapshot schedule (`gcp.compute.ResourcePolicy`: daily, each snapshot kept
`backups.retention_days`, kept too when its disk is deleted) attached to each disk by a
`gcp.compute.DiskResourcePolicyAttachment`.

Owning the disks (instead of letting GKE provision them for the claims) is what makes the
schedule possible, and keeps the disks when the cluster is deleted. They are created empty;
the CSI driver makes their file system on first mount, and grows disk and file system when a
claim asks for more (so `size` counts at creation only).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from qhub.clouds.common import SNAPSHOT_HOUR_UTC, disk_sizes
from qhub.cluster import CONDA_STORE_DISK, SHARED_DISK, CloudDisk
from qhub.config.model import Backups, Storage

CSI_DRIVER = "pd.csi.storage.gke.io"
# The node label GKE's disk driver places zonal disks by.
ZONE_LABEL = "topology.gke.io/zone"
DISK_TYPE = "pd-balanced"  # what GKE's default class (standard-rwo) provisions
MIN_DISK_GIB = 10  # pd-balanced's smallest size


def disk_name(name: str, role: str) -> str:
    """A disk or policy name: 1-63 characters, lowercase, starting with a letter."""
    head = name[: 63 - len(role) - 1].rstrip("-")
    return f"{head}-{role}"


class Disks(pulumi.ComponentResource):
    """The platform's data disks on GCP and their snapshot schedule."""

    disks: dict[str, CloudDisk]
    """By role, what the platform binds its claims to."""

    def __init__(self, name: str, stack_name: str, project: str, region: str, zone: pulumi.Input[str],
                 storage: Storage, backups: Backups, provider: gcp.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:gcp:Disks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        policy = None
        if backups.enabled:
            policy = gcp.compute.ResourcePolicy(
                f"{name}-snapshots",
                # A schedule cannot change in place: a new retention is a new policy, under a new
                # name, created before the old one is detached and deleted.
                name=disk_name(stack_name, f"snapshots-{backups.retention_days}d"),
                project=project,
                region=region,
                description=f"Daily snapshots of the QHub stack {stack_name}'s data disks",
                snapshot_schedule_policy=gcp.compute.ResourcePolicySnapshotSchedulePolicyArgs(
                    schedule=gcp.compute.ResourcePolicySnapshotSchedulePolicyScheduleArgs(
                        daily_schedule=gcp.compute.ResourcePolicySnapshotSchedulePolicyScheduleDailyScheduleArgs(
                            days_in_cycle=1, start_time=f"{SNAPSHOT_HOUR_UTC:02d}:00",
                        ),
                    ),
                    retention_policy=gcp.compute.ResourcePolicySnapshotSchedulePolicyRetentionPolicyArgs(
                        max_retention_days=backups.retention_days,
                        # A deleted disk's snapshots are how it comes back.
                        on_source_disk_delete="KEEP_AUTO_SNAPSHOTS",
                    ),
                    snapshot_properties=gcp.compute.ResourcePolicySnapshotSchedulePolicySnapshotPropertiesArgs(
                        labels={"qhub-stack": stack_name},
                    ),
                ),
                opts=child,
            )
        self.disks = {}
        for role, gib in disk_sizes(storage, (SHARED_DISK, CONDA_STORE_DISK), MIN_DISK_GIB).items():
            disk = gcp.compute.Disk(
                f"{name}-{role}",
                name=disk_name(stack_name, role),
                project=project,
                zone=zone,
                type=DISK_TYPE,
                size=gib,
                description=f"QHub stack {stack_name}: {role} data",
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    # The claim grows it through the CSI driver; Pulumi resizing it too would race.
                    protect=True, ignore_changes=["size"],
                )),
            )
            ready: list[pulumi.Resource] = [disk]
            if policy is not None:
                ready.append(gcp.compute.DiskResourcePolicyAttachment(
                    f"{name}-{role}-snapshots",
                    name=policy.name,
                    disk=disk.name,
                    project=project,
                    zone=zone,
                    # A disk takes one snapshot schedule: the old attachment goes before the new one.
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=True)),
                ))
            self.disks[role] = CloudDisk(
                csi_driver=CSI_DRIVER, volume_handle=disk.id, size=f"{gib}Gi",
                zone_label=ZONE_LABEL, zone=zone, ready=ready,
            )
        self.register_outputs({role: disk.volume_handle for role, disk in self.disks.items()})
