"""GKE and AKS clusters enforce NetworkPolicies, and switching enforcement on keeps the cluster.

The plan's NetworkPolicies (QHub's and z2jh's) only hold where the cluster's network plugin
enforces them: EKS's VPC CNI with its policy agent and DOKS's Cilium do; GKE and AKS do with a
policy engine switched on, Calico on both (qhub/clouds/gcp/gke.py, qhub/clouds/azure/aks.py say
why that one: it is the engine either cloud installs on an existing cluster).

Stacks made before planned their cluster without these inputs. A new cluster would lose the
hub's database and every disk, so switching enforcement on must be an update of the same
cluster. What a plan can show: the cluster keeps its URN (the committed URN snapshot, recorded
before), nothing else changes, `qhub diff` sees no data loss, and the only inputs that change
are the ones each cloud documents as updated in place, listed below. A plan cannot show a
provider-side replacement (a ForceNew field): for that the documentation cited here is the
evidence, and the test checks that no input `qhub diff` knows to replace the cluster (GKE's
datapathProvider, names, locations) is set or changed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from qhub.config import load_file
from qhub.plan_diff import diff_plans
from tests.conftest import all_plans, plan_sources
from tests.test_urn_snapshots import read_snapshot, snapshot_file

GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"
CLUSTER_TYPES = {"gcp": GKE, "azure": AKS}
# Input paths enforcement adds to a cluster planned without it, each updated in place:
IN_PLACE = {
    # GKE: clusters.setAddons enables the NetworkPolicy add-on on the control plane, then
    # clusters.setNetworkPolicy enables Calico on the nodes, which GKE applies by re-creating the
    # node pools like an upgrade ("Enabling network policy enforcement", existing clusters,
    # kubernetes-engine/docs/how-to/network-policy).
    GKE: {"networkPolicy", "addonsConfig", "addonsConfig.networkPolicyConfig"},
    # AKS: `az aks update --network-policy calico` installs Calico on an existing cluster and
    # re-images its node pools ("Install Azure Network Policy Manager or Calico in an existing
    # cluster", AKS docs use-network-policies).
    AKS: {"networkProfile.networkPolicy"},
}
LABELS = [label for label, path in plan_sources().items() if load_file(path).config.provider.value in CLUSTER_TYPES]
PLANS = all_plans()


def _cluster(plan_json: dict[str, Any], type_token: str) -> dict[str, Any]:
    (cluster,) = [r for r in plan_json["resources"] if r["type"] == type_token]
    return cluster


def _without_enforcement(plan_json: dict[str, Any], type_token: str) -> dict[str, Any]:
    """The plan as a stack made before enforcement had it: the cluster without its inputs."""
    before = copy.deepcopy(plan_json)
    inputs = _cluster(before, type_token)["inputs"]
    if type_token == GKE:
        del inputs["networkPolicy"]
        del inputs["addonsConfig"]["networkPolicyConfig"]
        if not inputs["addonsConfig"]:
            del inputs["addonsConfig"]
    else:
        del inputs["networkProfile"]["networkPolicy"]
    return before


def test_there_are_gke_and_aks_plans() -> None:
    providers = {load_file(plan_sources()[label]).config.provider.value for label in LABELS}
    assert providers == set(CLUSTER_TYPES), LABELS


@pytest.mark.parametrize("label", LABELS)
def test_every_gke_and_aks_cluster_enforces_network_policies(label: str) -> None:
    plan = PLANS[label]().to_json()
    if any(r["type"] == GKE for r in plan["resources"]):
        inputs = _cluster(plan, GKE)["inputs"]
        assert inputs["networkPolicy"] == {"enabled": True, "provider": "CALICO"}
        # The control plane's add-on: GKE refuses node enforcement without it.
        assert inputs["addonsConfig"]["networkPolicyConfig"] == {"disabled": False}
        # Not Dataplane V2: that would need a new cluster.
        assert inputs.get("datapathProvider") in (None, "LEGACY_DATAPATH")
    else:
        profile = _cluster(plan, AKS)["inputs"]["networkProfile"]
        assert profile["networkPolicy"] == "calico"
        # The network itself stays as existing clusters have it: Azure CNI overlay, no Cilium dataplane.
        assert (profile["networkPlugin"], profile["networkPluginMode"]) == ("azure", "overlay")
        assert "networkDataplane" not in profile


@pytest.mark.parametrize("label", LABELS)
def test_switching_enforcement_on_updates_the_cluster_in_place(label: str) -> None:
    after = PLANS[label]().to_json()
    type_token = GKE if any(r["type"] == GKE for r in after["resources"]) else AKS
    cluster = _cluster(after, type_token)
    snapshot = snapshot_file(label)
    assert snapshot.exists(), f"{label} has no URN snapshot yet (tests/test_urn_snapshots.py records one)"
    assert cluster["urn"] in read_snapshot(snapshot), "the cluster's URN is not the one existing stacks have"
    diff = diff_plans(_without_enforcement(after, type_token), after)
    assert not diff.added and not diff.removed and not diff.data_loss, diff.data_loss
    (change,) = diff.changed
    assert change.urn == cluster["urn"] and not change.settings
    assert set(change.inputs) <= IN_PLACE[type_token], change.inputs
