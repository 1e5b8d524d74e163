"""qhub.plan_diff and `qhub diff`: what changes between two offline plans, data loss first.

The data-loss check is shown on real plan pairs: each provider's happy fixture planned as is
and again with components renamed without aliases (a monkeypatched name, as a careless refactor
would do), compared by `qhub diff`, which must exit 3 after its summary.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import qhub.platform.platform
import qhub.stack
from qhub.cli.main import main
from qhub.offline.engine import plan_program
from qhub.plan_diff import STATEFUL_TYPES, changed_paths, diff_plans, markdown_summary, text_summary
from tests.conftest import FIXTURES, all_plans, plan_config

URN = "urn:pulumi:staging::qhub::"


def _resource(name_: str, type_: str = "aws:s3/bucket:Bucket", *, protect: bool = False, **inputs: Any) -> dict[str, Any]:
    name = name_
    return {"urn": f"{URN}{type_}::{name}", "type": type_, "name": name, "custom": True, "parent": None,
            "provider": None, "dependencies": [], "protect": protect, "retainOnDelete": False,
            "ignoreChanges": [], "inputs": inputs}


def _plan(*resources: dict[str, Any], **outputs: Any) -> dict[str, Any]:
    return {"version": 1, "project": "qhub", "stack": "staging", "provider": "aws",
            "resources": list(resources), "outputs": outputs}


def test_added_removed_and_changed_by_urn() -> None:
    base = _plan(_resource("a", size=1), _resource("gone"), hub_url="https://a")
    head = _plan(_resource("a", size=2), _resource("new"), hub_url="https://b", extra="x")
    diff = diff_plans(base, head)
    assert [r["name"] for r in diff.added] == ["new"]
    assert [r["name"] for r in diff.removed] == ["gone"]
    assert [(c.name, c.inputs) for c in diff.changed] == [("a", ["size"])]
    assert diff.outputs == {"added": ["extra"], "removed": [], "changed": ["hub_url"]}
    assert diff.risks == []


def test_nested_keys_are_named_to_a_limited_depth() -> None:
    old = {"values": {"hub": {"config": {"a": 1}}, "proxy": {"x": 1}}, "tags": {"A": "1"}, "list": [1, 2]}
    new = {"values": {"hub": {"config": {"a": 2}}, "proxy": {"x": 1}}, "tags": {"B": "1"}, "list": [1, 3]}
    assert changed_paths(old, new) == ["list[1]", "tags.A", "tags.B", "values.hub.config"]
    assert changed_paths([1], [1, 2], "xs") == ["xs"]


def test_deleting_a_protected_resource_is_flagged_in_bold() -> None:
    base = _plan(_resource("home", "aws:efs/fileSystem:FileSystem", protect=True))
    summary = markdown_summary(base, _plan())
    assert "**protected aws:efs/fileSystem:FileSystem `home` is deleted" in summary
    assert "| removed **(protected)** |" in summary


def test_a_protected_resource_changing_urn_is_data_loss() -> None:
    old = _resource("home", "aws:efs/fileSystem:FileSystem", protect=True)
    new = copy.deepcopy(old)
    new["urn"] = f"{URN}qhub:aws:Storage$aws:efs/fileSystem:FileSystem::home"  # moved under a component
    diff = diff_plans(_plan(old), _plan(new))
    assert diff.data_loss == ["protected aws:efs/fileSystem:FileSystem `home` changes URN: it is replaced "
                              "(deleted, then created empty) unless the new resource has an alias to the old URN"]
    assert diff.risks == []


def test_an_unprotected_stateful_resource_deleted_is_data_loss_and_a_stateless_one_is_not() -> None:
    base = _plan(_resource("cluster", "gcp:container/cluster:Cluster"), _resource("bucket"))
    diff = diff_plans(base, _plan())
    assert diff.data_loss == ["stateful gcp:container/cluster:Cluster `cluster` is deleted: its URN leaves the plan "
                              "(a rename or move without `aliases` deletes it and creates a new, empty one)"]
    assert "| removed **(holds data)** |" in markdown_summary(base, _plan())


def test_inputs_that_name_a_stateful_resource_replace_it() -> None:
    claim = _resource("claim", "kubernetes:core/v1:PersistentVolumeClaim", protect=True,
                      metadata={"name": "home"}, spec={"storageClassName": "a", "resources": {"requests": {"storage": "1Gi"}}})
    grown = copy.deepcopy(claim)
    grown["inputs"]["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert diff_plans(_plan(claim), _plan(grown)).data_loss == []  # a claim grows in place
    for path, value in (("metadata", {"name": "homes"}), ("spec", {**claim["inputs"]["spec"], "storageClassName": "b"})):
        moved = copy.deepcopy(claim)
        moved["inputs"][path] = value
        losses = diff_plans(_plan(claim), _plan(moved)).data_loss
        assert len(losses) == 1 and "is replaced: " in losses[0] and "cannot change in place" in losses[0]
    cluster = _resource("eks", "aws:eks/cluster:Cluster", name="a", version="1.35")
    upgraded = _resource("eks", "aws:eks/cluster:Cluster", name="a", version="1.36")
    renamed = _resource("eks", "aws:eks/cluster:Cluster", name="b", version="1.35")
    assert diff_plans(_plan(cluster), _plan(upgraded)).data_loss == []
    assert diff_plans(_plan(cluster), _plan(renamed)).data_loss == [
        "stateful aws:eks/cluster:Cluster `eks` is replaced: name cannot change in place"]
    # GKE: Calico enforcement changes in place, a datapath (Dataplane V2) only with a new cluster.
    gke = _resource("gke", "gcp:container/cluster:Cluster", name="a")
    calico = _resource("gke", "gcp:container/cluster:Cluster", name="a", networkPolicy={"enabled": True, "provider": "CALICO"})
    dataplane_v2 = _resource("gke", "gcp:container/cluster:Cluster", name="a", datapathProvider="ADVANCED_DATAPATH")
    assert diff_plans(_plan(gke), _plan(calico)).data_loss == []
    assert diff_plans(_plan(gke), _plan(dataplane_v2)).data_loss == [
        "stateful gcp:container/cluster:Cluster `gke` is replaced: datapathProvider cannot change in place"]


def test_changes_to_protected_resources_and_their_protection_are_flagged() -> None:
    old = _resource("claim", "kubernetes:core/v1:PersistentVolumeClaim", protect=True, spec={"size": "10Gi"})
    new = copy.deepcopy(old)
    new["inputs"]["spec"]["size"] = "20Gi"
    new["protect"] = False
    summary = markdown_summary(_plan(old), _plan(new))
    assert "**protection of kubernetes:core/v1:PersistentVolumeClaim `claim` changes (protect)**" in summary
    assert "changes inputs (spec.size): check the preview for a replacement**" in summary
    assert "`spec.size`, `protect`" in summary


def test_secrets_and_values_never_appear() -> None:
    base = _plan(_resource("a", password="[secret]", size="small"), kubeconfig="[secret]")
    head = _plan(_resource("a", password="[secret]", size="large"), kubeconfig="[secret]")
    for summary in (markdown_summary(base, head), text_summary(base, head)):
        assert "small" not in summary and "large" not in summary and "[secret]" not in summary
        assert "size" in summary and "password" not in summary


def test_no_change_says_so() -> None:
    plan = _plan(_resource("a"))
    assert "No change (1 resources in the plan)." in markdown_summary(plan, plan)
    assert text_summary(plan, plan).startswith("stack staging (aws): no change")


def test_long_tables_fold_away() -> None:
    head = _plan(*(_resource(f"r{i}") for i in range(20)))
    summary = markdown_summary(_plan(), head)
    assert summary.index("**20 to add") < summary.index("<details>")


def test_the_real_plan_against_itself_and_against_nothing() -> None:
    from tests.conftest import plan_stack

    plan = plan_stack("staging").to_json()
    assert diff_plans(plan, plan).empty
    everything = diff_plans({"resources": [], "outputs": {}}, plan)
    assert len(everything.added) == len(plan["resources"]) and everything.risks == []


def test_every_protected_resource_of_every_plan_is_of_a_stateful_type() -> None:
    # The type list is what the check knows; protection in the program must not outgrow it.
    for label, plan in all_plans().items():
        for resource in plan().resources:
            if resource.protect or resource.retain_on_delete:
                assert resource.type in STATEFUL_TYPES, f"{label}: {resource.type} {resource.name}"


def _renamed(factory: Callable[..., Any], suffix: str) -> Callable[..., Any]:
    """`factory` called with its first argument, the logical name, changed: a rename without aliases."""
    def make(name: str, *args: Any, **kwargs: Any) -> Any:
        return factory(f"{name}{suffix}", *args, **kwargs)
    return make


CLUSTER_TYPES = {
    "aws": "aws:eks/cluster:Cluster", "gcp": "gcp:container/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster", "do": "digitalocean:index/kubernetesCluster:KubernetesCluster",
}


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure", "do", "existing"])
def test_renaming_components_without_aliases_fails_the_diff(
    cloud: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    fixture = FIXTURES / "configs" / f"{cloud}.happy.yaml"
    base = plan_config(fixture).to_json()
    # The shared drive's component and the whole cloud layer get new names, as a refactor might.
    monkeypatch.setattr(qhub.platform.platform, "SharedStorage", _renamed(qhub.platform.platform.SharedStorage, "-v2"))
    monkeypatch.setattr(qhub.stack, "build_cluster", _renamed(qhub.stack.build_cluster, "-v2"))
    head = plan_program(fixture, "dev", cloud).to_json()
    base_file, head_file = tmp_path / "base.json", tmp_path / "head.json"
    base_file.write_text(json.dumps(base))
    head_file.write_text(json.dumps(head))

    assert main(["diff", str(base_file), str(head_file)]) == 3
    captured = capsys.readouterr()
    losses = [line for line in captured.out.splitlines() if line.startswith("  DATA LOSS: ")]
    assert captured.out.startswith("stack dev (") and "would be deleted or replaced (exit 3)" in captured.err
    # Both claims of the shared drive (the nfs one and, in-cluster, the disk's) and its volume.
    claims = [line for line in losses if "kubernetes:core/v1:PersistentVolumeClaim `" in line and "-storage-" in line]
    assert len(claims) >= 1 and any("kubernetes:core/v1:PersistentVolume `" in line for line in losses)
    if cloud in CLUSTER_TYPES:
        assert any(f"{CLUSTER_TYPES[cloud]} `" in line for line in losses), losses
    assert main(["diff", str(base_file), str(head_file), "--markdown"]) == 3
    assert "**:stop_sign: Data loss: " in capsys.readouterr().out
    # The same plan against itself loses nothing.
    assert main(["diff", str(head_file), str(head_file)]) == 0


def test_renaming_a_component_that_holds_no_data_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    fixture = FIXTURES / "configs" / "existing.happy.yaml"
    base = plan_config(fixture).to_json()
    monkeypatch.setattr(qhub.platform.platform, "IngressController", _renamed(qhub.platform.platform.IngressController, "-v2"))
    head = plan_program(fixture, "dev", "existing").to_json()
    diff = diff_plans(base, head)
    assert diff.removed and diff.added and not diff.data_loss  # the controller's release is re-created
    base_file, head_file = tmp_path / "base.json", tmp_path / "head.json"
    base_file.write_text(json.dumps(base))
    head_file.write_text(json.dumps(head))
    assert main(["diff", str(base_file), str(head_file)]) == 0
    assert "DATA LOSS" not in capsys.readouterr().out


def test_the_diff_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(_plan(_resource("a"))))
    head.write_text(json.dumps(_plan(_resource("a"), _resource("b"))))
    assert main(["diff", str(base), str(head), "--markdown"]) == 0
    assert "**1 to add, 0 to remove, 0 to change" in capsys.readouterr().out
    assert main(["diff", str(base), str(head)]) == 0
    assert f"  + {URN}aws:s3/bucket:Bucket::b" in capsys.readouterr().out
    head.write_text("{not json")
    assert main(["diff", str(base), str(head)]) == 1
    assert "not JSON (line 1" in capsys.readouterr().err
    head.write_text("[]")
    assert main(["diff", str(base), str(head)]) == 1
    assert "not a plan" in capsys.readouterr().err
