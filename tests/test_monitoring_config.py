"""The `monitoring` block (Nebari's key): off by default, Prometheus' retention and volume size
checked offline with messages naming the key, and a bigger volume a change in place (the claim's
request is patched; no resource is replaced or deleted), as for storage.*."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qhub.config import ConfigError, load_file
from qhub.config.monitoring import Monitoring
from qhub.offline.engine import plan_program
from qhub.plan_diff import diff_plans
from qhub.values.monitoring import PROMETHEUS_CLAIM
from tests.conftest import ROOT

STAGING = ROOT / "stacks" / "staging.yaml"


def _with_monitoring(tmp_path: Path, monitoring: object, name: str = "qhub.yaml") -> Path:
    document = yaml.safe_load(STAGING.read_text())
    document["monitoring"] = monitoring
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_monitoring_is_off_unless_turned_on() -> None:
    assert Monitoring() == Monitoring(enabled=False, retention="15d", storage="50Gi")
    assert not load_file(ROOT / "stacks" / "prod.yaml").config.monitoring.enabled


@pytest.mark.parametrize("retention", ["15d", "2w", "1y", "36h", "1w3d", "90m"])
def test_prometheus_durations_are_accepted(retention: str) -> None:
    assert Monitoring(retention=retention).retention == retention


def test_nebaris_block_carries_over(tmp_path: Path) -> None:
    assert load_file(_with_monitoring(tmp_path, {"enabled": True})).config.monitoring.enabled


@pytest.mark.parametrize(("monitoring", "key", "words"), [
    ({"enabled": True, "retention": "15 days"}, "retention", "Prometheus duration"),
    ({"enabled": True, "retention": "0d"}, "retention", "Prometheus duration"),
    ({"enabled": True, "retention": "1d2y"}, "retention", "Prometheus duration"),
    ({"enabled": True, "storage": "lots"}, "storage", "not a size"),
    ({"enabled": True, "storage": "1Gi"}, "storage", "at least 2Gi"),
    ({"enabled": "yes please"}, "enabled", "valid boolean"),
    ({"enabled": True, "alertmanager": True}, "alertmanager", "unknown key"),
])
def test_bad_values_are_refused_at_their_key(tmp_path: Path, monitoring: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_file(_with_monitoring(tmp_path, monitoring))
    issues = [issue for issue in raised.value.issues if issue.path == f"monitoring.{key}"]
    assert issues and words.lower() in issues[0].message.lower(), raised.value.issues


def test_a_bigger_prometheus_volume_grows_in_place(tmp_path: Path) -> None:
    base = plan_program(_with_monitoring(tmp_path, {"enabled": True, "storage": "50Gi"}, "base.yaml"), "dev", "aws")
    head = plan_program(_with_monitoring(tmp_path, {"enabled": True, "storage": "80Gi"}, "head.yaml"), "dev", "aws")
    diff = diff_plans(base.to_json(), head.to_json())
    assert not diff.added and not diff.removed and not diff.data_loss
    claims = [c for c in diff.changed if c.type == "kubernetes:core/v1:PersistentVolumeClaim"]
    assert [c.inputs for c in claims] == [["spec.resources.requests"]]
    (claim,) = [r for r in head.of_type("kubernetes:core/v1:PersistentVolumeClaim") if r.inputs["metadata"]["name"] == PROMETHEUS_CLAIM]
    assert claim.urn == claims[0].urn and claim.protect
