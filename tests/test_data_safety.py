"""Data safety on every provider: production clusters are protected, and the way out is printed.

The hub's database and every dynamically provisioned disk live inside the cluster, so on a
production stack (the QHub file's `production`, on by default for the Pulumi stacks `prod` and
`production`) the cluster is protected and `pulumi destroy` stops in its preview. Each managed
cloud's happy fixture is planned as stack `prod` and compared with its plan as `dev`; the
`protection` stack output says what to unprotect on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.config import load_file
from qhub.offline.engine import Plan, PlannedResource, plan_program
from tests.conftest import FIXTURES, plan_config, plan_stack

CLUSTER_TYPES = {
    "aws": "aws:eks/cluster:Cluster", "gcp": "gcp:container/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster", "do": "digitalocean:index/kubernetesCluster:KubernetesCluster",
}


def _fixture(cloud: str) -> Path:
    return FIXTURES / "configs" / f"{cloud}.happy.yaml"


def _cluster(plan: Plan, cloud: str) -> dict[str, object]:
    clusters = plan.of_type(CLUSTER_TYPES[cloud])
    assert len(clusters) == 1
    return {"protect": clusters[0].protect, "inputs": clusters[0].inputs}


@pytest.mark.parametrize("cloud", list(CLUSTER_TYPES))
def test_the_cluster_of_a_production_stack_is_protected(cloud: str) -> None:
    dev = plan_config(_fixture(cloud))
    prod = plan_program(_fixture(cloud), "prod", cloud)
    assert _cluster(dev, cloud)["protect"] is False
    assert _cluster(prod, cloud)["protect"] is True
    if cloud == "gcp":  # GKE's own guard follows the same key
        assert _cluster(dev, cloud)["inputs"]["deletionProtection"] is False  # type: ignore[index]
        assert _cluster(prod, cloud)["inputs"]["deletionProtection"] is True  # type: ignore[index]
    # Node groups hold nothing that outlives a node (their disks are the nodes' root disks).
    node_types = {"aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool",
                  "azure-native:containerservice:AgentPool", "digitalocean:index/kubernetesNodePool:KubernetesNodePool"}
    assert not [r.name for r in prod.resources if r.type in node_types and r.protect]
    # Where users see it: `pulumi stack output protection`.
    notice = prod.outputs["protection"]
    assert notice.startswith("Production stack: ") and "`production: false`" in notice and "`pulumi up`" in notice
    assert "pulumi state unprotect" in notice
    assert dev.outputs["protection"].startswith(f"The {notice.split('the ', 1)[1].split(' is protected')[0]} is not protected")


def test_the_repository_prod_stack_protects_its_cluster_and_staging_does_not() -> None:
    assert plan_stack("prod").of_type("aws:eks/cluster:Cluster")[0].protect is True
    assert plan_stack("staging").of_type("aws:eks/cluster:Cluster")[0].protect is False


def test_the_production_key_overrides_the_stack_name(tmp_path: Path) -> None:
    source = _fixture("do")
    for production, stack, expected in ((True, "dev", True), (False, "prod", False)):
        path = tmp_path / f"do-{production}.yaml"
        path.write_text(yaml.safe_dump({**yaml.safe_load(source.read_text()), "production": production}))
        assert load_file(path).config.is_production(stack) is expected
        if production:  # planned once: the key reaches the cluster
            assert _cluster(plan_program(path, stack, "do"), "do")["protect"] is True
    config = load_file(source).config
    assert config.production is None
    assert [config.is_production(s) for s in ("prod", "production", "staging", "dev")] == [True, True, False, False]


def test_an_existing_cluster_is_not_the_stacks_to_protect() -> None:
    plan = plan_config(_fixture("existing"))
    assert plan.outputs["protection"].startswith("The cluster is not this stack's (provider existing)")


@pytest.mark.parametrize("cloud", [*CLUSTER_TYPES, "existing"])
def test_the_hub_database_claim_outlives_its_release(cloud: str) -> None:
    """z2jh's own template, rendered by helm, gives the hub-db claim Helm's keep policy: an
    uninstalled or replaced release leaves the claim (users, API tokens, named servers), and a
    release of the same name in the same namespace adopts it again."""
    from tests.support.helm import objects_of, release_named, render_release, stack_kubernetes_version

    plan = plan_config(_fixture(cloud))
    rendered = render_release(release_named(plan, "jupyterhub"), stack_kubernetes_version(load_file(_fixture(cloud)).config))
    (claim,) = objects_of(rendered, "PersistentVolumeClaim", "hub-db-dir")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    hub = objects_of(rendered, "Deployment", "hub")[0]["spec"]["template"]["spec"]
    assert {"name": "pvc", "persistentVolumeClaim": {"claimName": "hub-db-dir"}} in hub["volumes"]


# --- backups: the disks holding users' data are the stack's own, snapshotted on a schedule ----

CLAIMS = {"aws": ("conda-store-storage",), "gcp": ("qhub-nfs-server-data", "conda-store-storage"),
          "azure": ("qhub-nfs-server-data", "conda-store-storage")}
DISK_TYPES = {"aws": "aws:ebs/volume:Volume", "gcp": "gcp:compute/disk:Disk", "azure": "azure-native:compute:Disk"}


def _with(cloud: str, tmp_path: Path, **keys: object) -> Plan:
    source = _fixture(cloud)
    path = tmp_path / f"{cloud}.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(source.read_text()), **keys}))
    return plan_program(path, "dev", cloud)


def _claim_and_volume(plan: Plan, claim_name: str) -> tuple[PlannedResource, PlannedResource]:
    (claim,) = [r for r in plan.of_type("kubernetes:core/v1:PersistentVolumeClaim") if r.inputs["metadata"]["name"] == claim_name]
    (volume,) = [r for r in plan.of_type("kubernetes:core/v1:PersistentVolume")
                 if r.inputs["metadata"]["name"] == claim.inputs["spec"]["volumeName"]]
    assert claim.protect and claim.retain_on_delete and volume.protect and volume.retain_on_delete
    return claim, volume


@pytest.mark.parametrize("cloud", list(CLAIMS))
def test_each_data_claim_is_bound_to_a_disk_the_stack_owns(cloud: str) -> None:
    plan = plan_config(_fixture(cloud))
    disks = plan.of_type(DISK_TYPES[cloud])
    assert len(disks) == len(CLAIMS[cloud]) and all(d.protect for d in disks)
    used = []
    for claim_name in CLAIMS[cloud]:
        claim, volume = _claim_and_volume(plan, claim_name)
        spec = volume.inputs["spec"]
        # Bound to this claim only, kept when released, on the cloud's disk through its CSI driver.
        assert spec["claimRef"] == {"name": claim_name, "namespace": claim.inputs["metadata"]["namespace"]}
        assert spec["persistentVolumeReclaimPolicy"] == "Retain" and spec["accessModes"] == ["ReadWriteOnce"]
        assert spec["storageClassName"] == claim.inputs["spec"]["storageClassName"]  # so the claim can grow
        assert volume.urn in claim.dependencies
        (disk,) = [d for d in disks if d.urn in volume.dependencies]
        used.append(disk.urn)
        handle = spec["csi"]["volumeHandle"]
        if cloud == "gcp":
            assert spec["csi"]["driver"] == "pd.csi.storage.gke.io"
            assert handle == f"projects/{disk.inputs['project']}/zones/{disk.inputs['zone']}/disks/{disk.inputs['name']}"
        elif cloud == "azure":
            assert spec["csi"]["driver"] == "disk.csi.azure.com"
            assert handle.endswith(f"/resourceGroups/{disk.inputs['resourceGroupName']}/providers/Microsoft.Compute/disks/{disk.inputs['diskName']}")
        else:
            assert spec["csi"]["driver"] == "ebs.csi.aws.com" and handle.startswith("vol-")
        if cloud != "azure":  # zonal disks: the pods go where the disk is
            (term,) = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
            assert term["matchExpressions"][0]["values"] == [disk.inputs.get("zone") or disk.inputs.get("availabilityZone")]
    assert sorted(used) == sorted(d.urn for d in disks)  # one disk per claim


def test_gcp_snapshot_schedule_attached_to_each_disk(tmp_path: Path) -> None:
    plan = _with("gcp", tmp_path, backups={"retention_days": 30})
    (policy,) = plan.of_type("gcp:compute/resourcePolicy:ResourcePolicy")
    schedule = policy.inputs["snapshotSchedulePolicy"]
    assert schedule["schedule"]["dailySchedule"] == {"daysInCycle": 1, "startTime": "03:00"}
    assert schedule["retentionPolicy"] == {"maxRetentionDays": 30, "onSourceDiskDelete": "KEEP_AUTO_SNAPSHOTS"}
    # A schedule cannot change in place: its name follows the retention, so a new one replaces it.
    assert policy.inputs["name"].endswith("-snapshots-30d")
    attachments = plan.of_type("gcp:compute/diskResourcePolicyAttachment:DiskResourcePolicyAttachment")
    assert {a.inputs["name"] for a in attachments} == {policy.inputs["name"]}
    disks = plan.of_type("gcp:compute/disk:Disk")
    assert sorted(a.inputs["disk"] for a in attachments) == sorted(d.inputs["name"] for d in disks)
    assert {a.inputs["zone"] for a in attachments} == {d.inputs["zone"] for d in disks}
    assert all(policy.urn in a.dependencies for a in attachments)
    # The volumes wait for the schedule to be attached.
    for volume in plan.of_type("kubernetes:core/v1:PersistentVolume"):
        if "csi" in volume.inputs["spec"]:
            assert any(a.urn in volume.dependencies for a in attachments)


def test_azure_backup_vault_policy_and_instances(tmp_path: Path) -> None:
    from qhub.clouds.azure.disks import CONTRIBUTOR, DISK_BACKUP_READER, DISK_SNAPSHOT_CONTRIBUTOR

    plan = _with("azure", tmp_path, backups={"retention_days": 30})
    (vault,) = plan.of_type("azure-native:dataprotection:BackupVault")
    assert vault.inputs["identity"] == {"type": "SystemAssigned"}
    (policy,) = plan.of_type("azure-native:dataprotection:BackupPolicy")
    rules = {rule["objectType"]: rule for rule in policy.inputs["properties"]["policyRules"]}
    assert rules["AzureBackupRule"]["trigger"]["schedule"]["repeatingTimeIntervals"] == ["R/2026-01-01T03:00:00+00:00/P1D"]
    assert rules["AzureRetentionRule"]["lifecycles"][0]["deleteAfter"]["duration"] == "P30D"
    disks = plan.of_type("azure-native:compute:Disk")
    instances = plan.of_type("azure-native:dataprotection:BackupInstance")
    disk_ids = {v.inputs["spec"]["csi"]["volumeHandle"] for v in plan.of_type("kubernetes:core/v1:PersistentVolume")
                if "csi" in v.inputs["spec"]}
    assert len(disks) == len(instances) == len(disk_ids) == 2
    assert {i.inputs["properties"]["dataSourceInfo"]["resourceID"] for i in instances} == disk_ids
    roles = [(r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["scope"], r.inputs["principalId"])
             for r in plan.of_type("azure-native:authorization:RoleAssignment")]
    for disk_id in disk_ids:
        assert {role for role, scope, _ in roles if scope == disk_id} == {CONTRIBUTOR, DISK_BACKUP_READER}
    group = next(i.inputs["properties"]["policyInfo"]["policyParameters"]["dataStoreParametersList"][0]["resourceGroupId"]
                 for i in instances)
    assert (DISK_SNAPSHOT_CONTRIBUTOR, group) in {(role, scope) for role, scope, _ in roles}
    # The instances wait for the vault's access.
    readers = [r for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.inputs["roleDefinitionId"].endswith(DISK_BACKUP_READER)]
    assert all(any(reader.urn in i.dependencies for reader in readers) for i in instances)


def test_aws_conda_store_volume_snapshots_and_efs_backups(tmp_path: Path) -> None:
    from qhub.clouds.aws.disks import BACKUP_TAG

    plan = _with("aws", tmp_path, backups={"retention_days": 30})
    (volume,) = plan.of_type("aws:ebs/volume:Volume")
    assert volume.inputs["encrypted"] is True and volume.protect
    (policy,) = plan.of_type("aws:dlm/lifecyclePolicy:LifecyclePolicy")
    details = policy.inputs["policyDetails"]
    assert details["targetTags"] == {BACKUP_TAG: volume.inputs["tags"][BACKUP_TAG]}
    (schedule,) = details["schedules"]
    assert schedule["retainRule"] == {"interval": 30, "intervalUnit": "DAYS"}
    assert schedule["createRule"] == {"interval": 24, "intervalUnit": "HOURS", "times": "03:00"}
    (efs,) = plan.of_type("aws:efs/backupPolicy:BackupPolicy")
    assert efs.inputs["backupPolicy"] == {"status": "ENABLED"}


@pytest.mark.parametrize("cloud", list(CLAIMS))
def test_backups_can_be_turned_off_and_the_disks_stay(cloud: str, tmp_path: Path) -> None:
    plan = _with(cloud, tmp_path, backups={"enabled": False})
    schedules = ("gcp:compute/resourcePolicy:ResourcePolicy", "gcp:compute/diskResourcePolicyAttachment:DiskResourcePolicyAttachment",
                 "azure-native:dataprotection:BackupVault", "azure-native:dataprotection:BackupInstance",
                 "aws:dlm/lifecyclePolicy:LifecyclePolicy")
    assert not [r.name for r in plan.resources if r.type in schedules]
    assert len(plan.of_type(DISK_TYPES[cloud])) == len(CLAIMS[cloud])
    if cloud == "aws":
        assert plan.of_type("aws:efs/backupPolicy:BackupPolicy")[0].inputs["backupPolicy"] == {"status": "DISABLED"}


@pytest.mark.parametrize("cloud", ["do", "existing"])
def test_without_a_schedule_the_claims_are_provisioned_and_validate_warns(cloud: str) -> None:
    plan = plan_config(_fixture(cloud))
    for claim_name in ("qhub-nfs-server-data", "conda-store-storage"):
        (claim,) = [r for r in plan.of_type("kubernetes:core/v1:PersistentVolumeClaim") if r.inputs["metadata"]["name"] == claim_name]
        assert "volumeName" not in claim.inputs["spec"] and claim.protect
    warnings = [str(w) for w in load_file(_fixture(cloud)).warnings]
    assert any(w.startswith("backups.enabled: ") and "README: Backups" in w for w in warnings), warnings
