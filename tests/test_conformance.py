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


def test_checker_takes_a_value_fitting_any_object_of_a_union() -> None:
    # azure-native's policy rules are a backup rule or a retention rule, told apart by objectType.
    store = {"dataStoreType": "OperationalStore", "objectType": "DataStoreInfoBase"}
    retention = {"name": "Default", "objectType": "AzureRetentionRule", "isDefault": True, "lifecycles": [
        {"deleteAfter": {"duration": "P14D", "objectType": "AbsoluteDeleteOption"}, "sourceDataStore": store}]}
    inputs = {"resourceGroupName": "g", "vaultName": "v",
              "properties": {"datasourceTypes": ["Microsoft.Compute/disks"], "objectType": "BackupPolicy", "policyRules": [retention]}}
    assert resource_problems("azure-native:dataprotection:BackupPolicy", inputs) == []
    retention["lifecycles"][0]["deletAfter"] = retention["lifecycles"][0].pop("deleteAfter")  # type: ignore[index]
    assert any("deletAfter" in p for p in resource_problems("azure-native:dataprotection:BackupPolicy", inputs))
