"""Every object a plan puts into the cluster is one its API server accepts: each object of each
Helm release (rendered by the real helm) and each object QHub plans itself, against the strict
schemas of the Kubernetes version the stack runs (unknown fields are errors, as under
`kubectl apply`'s strict field validation), custom resources against the CRDs the plan's charts
ship (tests/test_custom_resources.py shows that validator is strict)."""

from __future__ import annotations

import pytest

from qhub.config import load_file
from tests.conftest import all_plans, plan_sources
from tests.support.api_schemas import plan_api, refusals
from tests.support.kubernetes_schema import SchemaError, schema_version, validate

PLANS = all_plans()
SOURCES = plan_sources()


@pytest.mark.parametrize("label", list(PLANS))
def test_every_object_of_the_plan_is_valid(label: str) -> None:
    api, objects = plan_api(PLANS[label](), load_file(SOURCES[label]).config)
    assert any(o.origin.startswith("qhub ") for o in objects) and any(o.origin.startswith("release ") for o in objects)
    refused = refusals(api, objects)
    assert not refused, f"at Kubernetes {api.kube_version}:\n" + "\n".join(refused)


def test_validator_is_strict() -> None:
    with pytest.raises(SchemaError, match="lables"):
        validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "lables": {}}}, "1.35")
    with pytest.raises(SchemaError, match="name"):
        validate({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"selector": {}, "template": {"spec": {"containers": [{"image": "x"}]}}}}, "1.35")


def test_validation_follows_the_kubernetes_version() -> None:
    """resource.k8s.io/v1 (dynamic resource allocation) went GA in 1.34: a 1.33 cluster refuses
    a v1 ResourceClaim, a 1.34 one accepts it."""
    claim = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "x"},
             "spec": {"devices": {"requests": [{"name": "gpu", "exactly": {"deviceClassName": "gpu.nvidia.com"}}]}}}
    with pytest.raises(SchemaError, match="not a kind Kubernetes 1.33"):
        validate(claim, "1.33")
    validate(claim, "1.34")


def test_schema_version_is_the_newest_not_after_the_cluster() -> None:
    assert schema_version("1.35") == "1.35.0"
    assert schema_version("1.99") == "1.37.0"  # kubernetes-validate 1.37.0 knows up to 1.37
    with pytest.raises(SchemaError):
        schema_version("1.9")
