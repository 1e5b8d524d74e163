"""qhub.plan_diff and `qhub diff`: what changes between two offline plans, protected resources first."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from qhub.cli.main import main
from qhub.plan_diff import changed_paths, diff_plans, markdown_summary, text_summary

URN = "urn:pulumi:staging::qhub::"


def _resource(name: str, type_: str = "aws:s3/bucket:Bucket", *, protect: bool = False, **inputs: Any) -> dict[str, Any]:
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


def test_a_protected_resource_changing_urn_is_a_replacement_risk() -> None:
    old = _resource("home", "aws:efs/fileSystem:FileSystem", protect=True)
    new = copy.deepcopy(old)
    new["urn"] = f"{URN}qhub:aws:Storage$aws:efs/fileSystem:FileSystem::home"  # moved under a component
    risks = diff_plans(_plan(old), _plan(new)).risks
    assert risks == ["protected aws:efs/fileSystem:FileSystem `home` changes URN: "
                     "it is replaced unless the new resource has an alias to the old URN"]


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
