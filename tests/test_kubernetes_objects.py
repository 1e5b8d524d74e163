"""Every Kubernetes object the program creates is valid against the Kubernetes 1.33 schema
(strict: unknown fields are errors), as the API server would judge it."""

from __future__ import annotations

import pytest

from tests.conftest import all_plans
from tests.support.conformance import CUSTOM_RESOURCE_GROUPS
from tests.support.kubernetes_schema import SchemaError, manifest_of, validate

PLANS = all_plans()


def kubernetes_objects(plan):  # type: ignore[no-untyped-def]
    """(resource, manifest) for each plain Kubernetes object in a plan (not Helm releases or CRs)."""
    for resource in plan.resources:
        if not resource.custom or resource.read or not resource.type.startswith("kubernetes:"):
            continue
        group = resource.type.split(":")[1].split("/")[0]
        if group == "helm.sh" or group.endswith(CUSTOM_RESOURCE_GROUPS):
            continue
        yield resource, manifest_of(resource.inputs)


@pytest.mark.parametrize("label", list(PLANS))
def test_kubernetes_objects_are_valid(label: str) -> None:
    failures = []
    for resource, manifest in kubernetes_objects(PLANS[label]()):
        try:
            validate(manifest)
        except SchemaError as error:
            failures.append(f"{resource.name} ({resource.type}): {error}")
    assert not failures, "\n".join(failures)


def test_validator_is_strict() -> None:
    with pytest.raises(SchemaError):
        validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "lables": {}}})
    with pytest.raises(SchemaError):
        validate({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"selector": {}, "template": {"spec": {"containers": [{"image": "x"}]}}}})
