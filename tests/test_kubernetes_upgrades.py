"""Raising `kubernetes_version` by one minor upgrades the stack in place, on every cloud.

Each provider's happy fixture is planned at 1.35 and at 1.36 (both in standard support on every
cloud, qhub/versions.py) and the plans are compared as `qhub diff` compares them: no resource
may come or go (a changed URN is a replacement), and the only inputs that change are the ones
each provider upgrades in place, listed below with the documentation that says so. Pulumi
updates a resource after those it depends on, so node groups and add-ons, which depend on the
cluster, are upgraded after the control plane; the test checks those dependencies too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from qhub.config import load_file
from qhub.config.model import PROVIDER_BLOCKS
from qhub.offline.engine import Plan, PlannedResource, plan_program
from qhub.plan_diff import diff_plans
from tests.conftest import FIXTURES

BEFORE, AFTER = "1.35", "1.36"
# Type token -> input paths the provider changes in place when the minor rises.
IN_PLACE = {
    "aws": {
        # UpdateClusterVersion: "Updates an Amazon EKS cluster to the specified Kubernetes version"
        # (EKS API reference); the Terraform resource's `version` is not ForceNew.
        "aws:eks/cluster:Cluster": {"version"},
        # UpdateNodegroupVersion rolls the group's nodes to the new AMI release.
        "aws:eks/nodeGroup:NodeGroup": {"version"},
        # UpdateAddon changes an add-on's version in place.
        "aws:eks/addon:Addon": {"addonVersion"},
        # A Helm upgrade of the autoscaler to the image of the new minor.
        "kubernetes:helm.sh/v3:Release": {"values.image.tag"},
    },
    "gcp": {
        # GKE: the control plane upgrades to min_master_version in place; node pools follow
        # their `version` by a surge upgrade (Cluster and NodePool resources, update in place).
        "gcp:container/cluster:Cluster": {"minMasterVersion"},
        "gcp:container/nodePool:NodePool": {"version"},
    },
    "azure": {
        # AKS: a PUT of the managed cluster with a new kubernetesVersion upgrades the control
        # plane, then the pools named in the same request ("Upgrade an AKS cluster", AKS docs);
        # agent pools upgrade by orchestratorVersion.
        "azure-native:containerservice:ManagedCluster": {"kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"},
        "azure-native:containerservice:AgentPool": {"orchestratorVersion"},
    },
    "do": {
        # DOKS: a new version slug is an in-place upgrade of the cluster and all its pools
        # (surge_upgrade on), "How to Upgrade DOKS Clusters" in DigitalOcean's docs.
        "digitalocean:index/kubernetesCluster:KubernetesCluster": {"version"},
    },
}
CLUSTER_TYPES = {
    "aws": "aws:eks/cluster:Cluster", "gcp": "gcp:container/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster", "do": "digitalocean:index/kubernetesCluster:KubernetesCluster",
}


def plan_at(cloud: str, version: str, tmp_path: Path) -> Plan:
    source = FIXTURES / "configs" / f"{cloud}.happy.yaml"
    config = load_file(source).config
    data = yaml.safe_load(source.read_text())
    data[PROVIDER_BLOCKS[config.provider]]["kubernetes_version"] = version
    path = tmp_path / f"{cloud}-{version}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return plan_program(path, "dev", cloud)


@pytest.mark.parametrize("cloud", list(IN_PLACE))
def test_one_minor_up_is_an_in_place_upgrade(cloud: str, tmp_path: Path) -> None:
    before, after = plan_at(cloud, BEFORE, tmp_path), plan_at(cloud, AFTER, tmp_path)
    diff = diff_plans(before.to_json(), after.to_json())
    assert not diff.added and not diff.removed, "a resource would be replaced"
    assert diff.changed, "the version reached no resource"
    cluster = after.of_type(CLUSTER_TYPES[cloud])[0]
    for change in diff.changed:
        allowed = IN_PLACE[cloud].get(change.type, set())
        assert set(change.inputs) <= allowed, f"{change.name}: {change.inputs} may not be updated in place"
        assert not change.settings, f"{change.name}: {change.settings} changed"
        if change.urn != cluster.urn:
            # Updated after the control plane: it depends on the cluster (or on its provider).
            resource = after.by_urn(change.urn)
            assert cluster.urn in resource.dependencies or _under_cluster_provider(after, resource, cluster.urn), change.name
    versions = [v for change in diff.changed for v in _versions_in(after.by_urn(change.urn).inputs)]
    assert versions and all(v.startswith(AFTER) or not re.match(r"^v?1\.\d+", v) for v in versions), versions


def _under_cluster_provider(plan: Plan, resource: PlannedResource, cluster_urn: str) -> bool:
    """A Kubernetes resource waits for the cluster through its provider, made from the cluster."""
    if not resource.provider:
        return False
    provider = plan.by_urn(resource.provider.rsplit("::", 1)[0])  # a reference is "<urn>::<id>"
    return cluster_urn in provider.dependencies


def _versions_in(inputs: dict[str, object]) -> list[str]:
    found = []
    for key in ("version", "minMasterVersion", "kubernetesVersion", "orchestratorVersion"):
        if isinstance(inputs.get(key), str):
            found.append(str(inputs[key]))
    return found
