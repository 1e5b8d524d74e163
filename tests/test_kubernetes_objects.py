"""Every Kubernetes object the program creates is valid against the Kubernetes 1.33 schema
(strict: unknown fields are errors), as the API server would judge it."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.conftest import all_plans
from tests.support.conformance import CUSTOM_RESOURCE_GROUPS

KUBERNETES_VERSION = "1.33"
PLANS = all_plans()


def kubernetes_objects(plan):  # type: ignore[no-untyped-def]
    """(resource, manifest) for each plain Kubernetes object in a plan (not Helm releases or CRs)."""
    for resource in plan.resources:
        if not resource.custom or resource.read or not resource.type.startswith("kubernetes:"):
            continue
        group = resource.type.split(":")[1].split("/")[0]
        if group == "helm.sh" or group.endswith(CUSTOM_RESOURCE_GROUPS):
            continue
        manifest = dict(resource.inputs)
        for key in ("data", "stringData"):
            # A Secret's whole map is recorded as "[secret]"; its shape is a map of strings.
            if manifest.get(key) == "[secret]":
                manifest[key] = {"redacted": ""}
        yield resource, manifest


@pytest.mark.parametrize("label", list(PLANS))
def test_kubernetes_objects_are_valid(label: str) -> None:
    failures = []
    for resource, manifest in kubernetes_objects(PLANS[label]()):
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{resource.name} ({resource.type}): {'/'.join(map(str, error.path))}: {error.message}")
    assert not failures, "\n".join(failures)


def test_validator_is_strict() -> None:
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "lables": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES_VERSION, strict=True)
