"""Every planned resource's inputs fit its provider SDK's schema, at every depth."""

from __future__ import annotations

import pytest

from tests.conftest import all_plans
from tests.support.conformance import resource_problems

PLANS = all_plans()


@pytest.mark.parametrize("label", list(PLANS))
def test_inputs_use_only_defined_properties_and_give_required_ones(label: str) -> None:
    plan = PLANS[label]()
    found = []
    for resource in plan.resources:
        if resource.custom and not resource.read:
            found += [f"{resource.name}: {p}" for p in resource_problems(resource.type, resource.inputs)]
    assert not found, "\n".join(found[:50])


def test_checker_catches_a_misspelled_nested_key() -> None:
    inputs = {"metadata": {"name": "dev", "lables": {"a": "b"}}}
    assert any("lables" in p for p in resource_problems("kubernetes:core/v1:Namespace", inputs))
    inputs = {"spec": {"selector": {}, "template": {"spec": {"containers": [{"image": "x"}]}}}}
    assert any("required property 'name'" in p for p in resource_problems("kubernetes:apps/v1:Deployment", inputs))
