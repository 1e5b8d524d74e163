"""The managed disks holding users' data, owned by the stack, and their Azure Backup.

Creates: a Standard SSD `azure_native.compute.Disk` for the in-cluster NFS server (home and
group folders) and one for conda-store, in the stack's resource group (not AKS's node resource
group, which goes with the cluster), protected; the cluster identity's Contributor role on each
(AKS's disk driver attaches and grows them). When `backups` is on: a Backup vault (system
identity), a disk backup policy (a daily incremental snapshot, each kept
`backups.retention_days`), one backup instance per disk, and the vault's roles the service
documents for disk backup: Disk Backup Reader on each disk, Disk Snapshot Contributor on the
resource group the snapshots are kept in (the stack's).

They are created empty; the CSI driver makes their file system on first mount, and grows disk
and file system when a claim asks for more (so `disk_size_gb` counts at creation only).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from qhub.clouds.azure.aks import role_id
from qhub.clouds.common import SNAPSHOT_HOUR_UTC, disk_sizes
from qhub.cluster import CONDA_STORE_DISK, SHARED_DISK, CloudDisk
from qhub.config.model import Backups, Storage

CSI_DRIVER = "disk.csi.azure.com"
DISK_SKU = "StandardSSD_LRS"  # what AKS's default class (managed-csi) provisions
DATASOURCE = "Microsoft.Compute/disks"
# Built-in role ids, the same in every tenant.
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
DISK_BACKUP_READER = "3e5e47e6-65f7-47ef-90b5-e5dd4d455f24"
DISK_SNAPSHOT_CONTRIBUTOR = "7efff54f-a5b4-42b5-a1c5-5411624893ce"
OPERATIONAL_STORE = "OperationalStore"  # disk backups are snapshots kept in a resource group


def _store() -> azure.dataprotection.DataStoreInfoBaseArgs:
    return azure.dataprotection.DataStoreInfoBaseArgs(data_store_type=OPERATIONAL_STORE, object_type="DataStoreInfoBase")


def backup_policy_properties(retention_days: int) -> azure.dataprotection.BackupPolicyArgs:
    """A daily incremental snapshot at SNAPSHOT_HOUR_UTC, each deleted after `retention_days`."""
    return azure.dataprotection.BackupPolicyArgs(
        datasource_types=[DATASOURCE],
        object_type="BackupPolicy",
        policy_rules=[
            azure.dataprotection.AzureBackupRuleArgs(
                name="BackupDaily",
                object_type="AzureBackupRule",
                backup_parameters=azure.dataprotection.AzureBackupParamsArgs(backup_type="Incremental", object_type="AzureBackupParams"),
                data_store=_store(),
                trigger=azure.dataprotection.ScheduleBasedTriggerContextArgs(
                    object_type="ScheduleBasedTriggerContext",
                    # ISO 8601 repeating interval: from this start, every day.
                    schedule=azure.dataprotection.BackupScheduleArgs(
                        repeating_time_intervals=[f"R/2026-01-01T{SNAPSHOT_HOUR_UTC:02d}:00:00+00:00/P1D"], time_zone="UTC",
                    ),
                    tagging_criteria=[azure.dataprotection.TaggingCriteriaArgs(
                        is_default=True, tagging_priority=99, tag_info=azure.dataprotection.RetentionTagArgs(tag_name="Default"),
                    )],
                ),
            ),
            azure.dataprotection.AzureRetentionRuleArgs(
                name="Default",
                object_type="AzureRetentionRule",
                is_default=True,
                lifecycles=[azure.dataprotection.SourceLifeCycleArgs(
                    delete_after=azure.dataprotection.AbsoluteDeleteOptionArgs(duration=f"P{retention_days}D", object_type="AbsoluteDeleteOption"),
                    source_data_store=_store(),
                    target_data_store_copy_settings=[],
                )],
            ),
        ],
    )


class Disks(pulumi.ComponentResource):
    """The platform's data disks on Azure and their backup."""

    disks: dict[str, CloudDisk]
    """By role, what the platform binds its claims to."""

    def __init__(self, name: str, stack_name: str, group: azure.resources.ResourceGroup, location: str,
                 cluster_principal: pulumi.Input[str], subscription_id: pulumi.Input[str],
                 storage: Storage, backups: Backups, provider: azure.Provider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:azure:Disks", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        disks: dict[str, azure.compute.Disk] = {}
        self.disks = {}
        for role, gib in disk_sizes(storage, (SHARED_DISK, CONDA_STORE_DISK)).items():
            disk = azure.compute.Disk(
                f"{name}-{role}",
                disk_name=f"{stack_name}-{role}",
                resource_group_name=group.name,
                location=location,
                sku=azure.compute.DiskSkuArgs(name=DISK_SKU),
                disk_size_gb=gib,
                creation_data=azure.compute.CreationDataArgs(create_option="Empty"),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    # The claim grows it through the CSI driver; Pulumi resizing it too would race.
                    protect=True, ignore_changes=["diskSizeGB"],
                )),
            )
            access = azure.authorization.RoleAssignment(
                f"{name}-{role}-cluster-access",
                principal_id=cluster_principal,
                principal_type="ServicePrincipal",
                role_definition_id=role_id(subscription_id, CONTRIBUTOR),
                scope=disk.id,
                opts=child,
            )
            disks[role] = disk
            self.disks[role] = CloudDisk(csi_driver=CSI_DRIVER, volume_handle=disk.id, size=f"{gib}Gi", ready=[disk, access])
        if backups.enabled:
            self._backup(name, stack_name, group, location, disks, subscription_id, backups.retention_days, child)
        self.register_outputs({role: disk.volume_handle for role, disk in self.disks.items()})

    def _backup(self, name: str, stack_name: str, group: azure.resources.ResourceGroup, location: str,
                disks: dict[str, azure.compute.Disk], subscription_id: pulumi.Input[str], retention_days: int,
                child: pulumi.ResourceOptions) -> None:
        vault = azure.dataprotection.BackupVault(
            f"{name}-vault",
            vault_name=f"{stack_name[:42].rstrip('-')}-backups",  # at most 50 characters
            resource_group_name=group.name,
            location=location,
            identity=azure.dataprotection.DppIdentityDetailsArgs(type="SystemAssigned"),
            properties=azure.dataprotection.BackupVaultArgs(
                storage_settings=[azure.dataprotection.StorageSettingArgs(datastore_type="VaultStore", type="LocallyRedundant")],
            ),
            opts=child,
        )
        vault_principal = vault.identity.apply(lambda identity: identity.principal_id if identity and identity.principal_id else "")
        policy = azure.dataprotection.BackupPolicy(
            f"{name}-policy",
            backup_policy_name="daily-snapshots",
            vault_name=vault.name,
            resource_group_name=group.name,
            properties=backup_policy_properties(retention_days),
            opts=child,
        )
        snapshots = azure.authorization.RoleAssignment(
            f"{name}-vault-snapshots",
            principal_id=vault_principal,
            principal_type="ServicePrincipal",
            role_definition_id=role_id(subscription_id, DISK_SNAPSHOT_CONTRIBUTOR),
            scope=group.id,
            opts=child,
        )
        for role, disk in disks.items():
            reader = azure.authorization.RoleAssignment(
                f"{name}-{role}-vault-reader",
                principal_id=vault_principal,
                principal_type="ServicePrincipal",
                role_definition_id=role_id(subscription_id, DISK_BACKUP_READER),
                scope=disk.id,
                opts=child,
            )
            azure.dataprotection.BackupInstance(
                f"{name}-{role}-backup",
                backup_instance_name=f"{stack_name}-{role}",
                vault_name=vault.name,
                resource_group_name=group.name,
                properties=azure.dataprotection.BackupInstanceArgs(
                    object_type="BackupInstance",
                    friendly_name=f"{stack_name}-{role}",
                    data_source_info=azure.dataprotection.DatasourceArgs(
                        resource_id=disk.id,
                        resource_uri=disk.id,
                        resource_name=disk.name,
                        resource_location=location,
                        resource_type=DATASOURCE,
                        datasource_type=DATASOURCE,
                        object_type="Datasource",
                    ),
                    policy_info=azure.dataprotection.PolicyInfoArgs(
                        policy_id=policy.id,
                        policy_parameters=azure.dataprotection.PolicyParametersArgs(
                            data_store_parameters_list=[azure.dataprotection.AzureOperationalStoreParametersArgs(
                                data_store_type=OPERATIONAL_STORE,
                                object_type="AzureOperationalStoreParameters",
                                resource_group_id=group.id,
                            )],
                        ),
                    ),
                ),
                # The vault validates its access to the disk and the snapshot group when the instance is made.
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[reader, snapshots])),
            )
