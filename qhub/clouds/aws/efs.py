"""The shared drive: an EFS file system reachable from the nodes only.

Creates: a security group admitting NFS (TCP 2049) from the cluster security group only, the
encrypted and protected `aws.efs.FileSystem`, its backup policy (AWS Backup's daily automatic
backups, kept 35 days, unless `backups.enabled` is false), and a mount target in every private
subnet.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

NFS_PORT = 2049


class SharedStorage(pulumi.ComponentResource):
    """EFS holding home directories and shared group folders.

    `subnets` pairs a stable label (the zone) with each private subnet id.
    """

    file_system: aws.efs.FileSystem
    """The file system (protected from deletion)."""
    dns_name: pulumi.Output[str]
    """NFS server name the platform mounts (`fs-<id>.efs.<region>.amazonaws.com`)."""
    mount_targets: list[aws.efs.MountTarget]
    """One mount target per private subnet; the DNS name resolves only once they exist."""

    def __init__(
        self, name: str, vpc_id: pulumi.Input[str], subnets: Sequence[tuple[str, pulumi.Input[str]]],
        node_security_group_id: pulumi.Input[str], provider: aws.Provider,
        opts: pulumi.ResourceOptions | None = None, *, backups: bool = True,
    ) -> None:
        super().__init__("qhub:aws:SharedStorage", name, None, opts)
        here = pulumi.ResourceOptions(parent=self, provider=provider)
        group = aws.ec2.SecurityGroup(
            f"{name}-nfs",
            vpc_id=vpc_id,
            description="NFS to the shared EFS drive from the EKS nodes",
            tags={"Name": f"{name}-nfs"},
            opts=here,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nfs-from-nodes",
            security_group_id=group.id,
            referenced_security_group_id=node_security_group_id,
            ip_protocol="tcp", from_port=NFS_PORT, to_port=NFS_PORT,
            description="NFS from EKS nodes",
            opts=here,
        )
        self.file_system = aws.efs.FileSystem(
            f"{name}-fs",
            encrypted=True,
            performance_mode="generalPurpose",
            # Elastic throughput follows the bursty load of notebooks without provisioning.
            throughput_mode="elastic",
            lifecycle_policies=[aws.efs.FileSystemLifecyclePolicyArgs(transition_to_ia="AFTER_30_DAYS")],
            tags={"Name": name},
            # Users' home directories: losing them to a refactor is the failure QHub was known for.
            opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=True),
        )
        aws.efs.BackupPolicy(
            f"{name}-backup",
            file_system_id=self.file_system.id,
            backup_policy=aws.efs.BackupPolicyBackupPolicyArgs(status="ENABLED" if backups else "DISABLED"),
            opts=here,
        )
        self.mount_targets = [
            aws.efs.MountTarget(
                f"{name}-mount-{label}",
                file_system_id=self.file_system.id, subnet_id=subnet_id, security_groups=[group.id],
                opts=here,
            )
            for label, subnet_id in subnets
        ]
        self.dns_name = self.file_system.dns_name
        self.register_outputs({"file_system_id": self.file_system.id, "dns_name": self.dns_name})
