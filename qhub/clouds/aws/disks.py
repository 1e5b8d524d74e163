"""conda-store's EBS volume, owned by the stack, and its snapshot schedule.

Creates: an encrypted gp3 `aws.ebs.Volume` for conda-store in the first zone of the nodes,
protected and tagged for backup; and, when `backups` is on, a Data Lifecycle Manager policy
(`aws.dlm.LifecyclePolicy`) that snapshots the volumes carrying that tag daily and keeps each
snapshot `backups.retention_days`, with the service role DLM runs as. (The shared drive is EFS,
whose backup policy is in efs.py.)

The volume is created empty; the EBS CSI driver makes its file system on first mount, and grows
volume and file system when the claim asks for more (so `size` counts at creation only).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from qhub.clouds.aws.iam import role_with_policies, service_trust_policy
from qhub.clouds.aws.provider import AccountFacts
from qhub.clouds.common import SNAPSHOT_HOUR_UTC, disk_sizes
from qhub.cluster import CONDA_STORE_DISK, CloudDisk
from qhub.config.model import Backups, Storage

CSI_DRIVER = "ebs.csi.aws.com"
ZONE_LABEL = "topology.kubernetes.io/zone"
# The tag DLM selects volumes by; its value is the stack, so stacks in one account stay apart.
BACKUP_TAG = "qhub.dev/backup"
DLM_POLICY = "service-role/AWSDataLifecycleManagerServiceRole"


class Disks(pulumi.ComponentResource):
    """conda-store's volume on AWS and its snapshot schedule."""

    disks: dict[str, CloudDisk]
    """By role, what the platform binds its claims to."""

    def __init__(self, name: str, stack_name: str, zone: pulumi.Input[str], storage: Storage, backups: Backups,
                 facts: AccountFacts, provider: aws.Provider, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:aws:Disks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.disks = {}
        for role, gib in disk_sizes(storage, (CONDA_STORE_DISK,)).items():
            volume = aws.ebs.Volume(
                f"{name}-{role}",
                availability_zone=zone,
                size=gib,
                type="gp3",
                encrypted=True,
                tags={"Name": f"{stack_name}-{role}", BACKUP_TAG: stack_name},
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    # The claim grows it through the CSI driver; Pulumi resizing it too would race.
                    protect=True, ignore_changes=["size"],
                )),
            )
            self.disks[role] = CloudDisk(csi_driver=CSI_DRIVER, volume_handle=volume.id, size=f"{gib}Gi",
                                         zone_label=ZONE_LABEL, zone=zone, ready=[volume])
        if backups.enabled:
            role_, attachments = role_with_policies(
                f"{name}-dlm", service_trust_policy("dlm.amazonaws.com"), [facts.managed_policy(DLM_POLICY)],
                provider=provider, parent=self, description=f"Data Lifecycle Manager: snapshots of {stack_name}'s volumes",
            )
            aws.dlm.LifecyclePolicy(
                f"{name}-snapshots",
                description=f"Daily snapshots of the QHub stack {stack_name}'s volumes",
                execution_role_arn=role_.arn,
                state="ENABLED",
                policy_details=aws.dlm.LifecyclePolicyPolicyDetailsArgs(
                    resource_types=["VOLUME"],
                    target_tags={BACKUP_TAG: stack_name},
                    schedules=[aws.dlm.LifecyclePolicyPolicyDetailsScheduleArgs(
                        name="daily",
                        create_rule=aws.dlm.LifecyclePolicyPolicyDetailsScheduleCreateRuleArgs(
                            interval=24, interval_unit="HOURS", times=f"{SNAPSHOT_HOUR_UTC:02d}:00",
                        ),
                        retain_rule=aws.dlm.LifecyclePolicyPolicyDetailsScheduleRetainRuleArgs(
                            interval=backups.retention_days, interval_unit="DAYS",
                        ),
                        # The snapshot says which stack and volume it is of.
                        copy_tags=True,
                    )],
                ),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=attachments)),
            )
        self.register_outputs({role: disk.volume_handle for role, disk in self.disks.items()})
