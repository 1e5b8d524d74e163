"""The offline engine records the graph the way the Pulumi engine would receive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qhub.cli.main import main
from qhub.offline.engine import SECRET, plain
from tests.conftest import ROOT, plan_stack

PLAN_KEYS = {"version", "project", "stack", "provider", "resources", "outputs"}
RESOURCE_KEYS = {"urn", "type", "name", "custom", "parent", "provider", "dependencies", "protect",
                 "retainOnDelete", "ignoreChanges", "inputs"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_plan_json_has_the_documented_format(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    if stack == "staging":  # once as a user runs it, in a process of its own
        result = subprocess.run([sys.executable, "-m", "qhub", "plan", "--stack", stack, "--json"],
                                cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        printed = result.stdout
    else:
        assert main(["plan", "--stack", stack, "--json"]) == 0
        printed = capsys.readouterr().out
    plan = json.loads(printed)
    assert set(plan) == PLAN_KEYS
    assert (plan["version"], plan["project"], plan["stack"], plan["provider"]) == (1, "qhub", stack, "aws")
    urns = {r["urn"] for r in plan["resources"]}
    assert len(urns) == len(plan["resources"]), "URNs are unique"
    for resource in plan["resources"]:
        assert set(resource) - {"read"} == RESOURCE_KEYS
        assert resource["parent"] is None or resource["parent"] in urns or resource["parent"].endswith(f"::qhub-{stack}")
        assert all(dep in urns for dep in resource["dependencies"])
    assert plan["outputs"]["kubeconfig"] == SECRET


def test_plans_are_deterministic() -> None:
    """Two `qhub plan --json` processes print the same text, key order included (reviews compare
    plans as text; the engine's Struct gave the inputs' keys in an order that varied per run)."""
    printed = [
        subprocess.run([sys.executable, "-m", "qhub", "plan", "--stack", "staging", "--json"], cwd=ROOT,
                       env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2")
    ]
    assert printed[0] == printed[1]
    assert json.loads(printed[0])["resources"]


def test_every_custom_resource_names_its_provider(stack_plan) -> None:  # type: ignore[no-untyped-def]
    for resource in stack_plan.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            assert resource.provider, f"{resource.name} ({resource.type}) relies on a default provider"


def test_component_children_are_named_after_their_parent(stack_plan) -> None:  # type: ignore[no-untyped-def]
    by_urn = {r.urn: r for r in stack_plan.resources}
    for resource in stack_plan.resources:
        parent = by_urn.get(resource.parent or "")
        if parent is not None and not parent.custom:
            assert resource.name.startswith(parent.name), f"{resource.name} under {parent.name}"


def test_special_values_are_readable() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    assert plain({"a": secret, "b": [1.0, 2.5]}) == {"a": SECRET, "b": [1, 2.5]}


# Plans the staging stack in a fresh process with the SDKs imported as published (annotations
# evaluated at import), for comparison with the engine's postponed-annotation import hook.
_EAGER_PLAN = """
import json, sys
from qhub.offline import engine, lazy_annotations
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, lazy_annotations._SdkFinder)]
from qhub.config.load import stack_config_file, stack_settings
plan = engine.plan_program(stack_config_file("staging", engine.PROJECT_DIR), "staging", "aws",
                           extra_config=stack_settings("staging", engine.PROJECT_DIR))
assert not any(isinstance(m.__spec__.loader, lazy_annotations._PostponedAnnotationsLoader)
               for m in list(sys.modules.values()) if getattr(m, "__spec__", None) is not None)
print(json.dumps(plan.to_json(), sort_keys=True))
"""


def test_postponed_sdk_annotations_change_nothing_in_the_plan() -> None:
    result = subprocess.run([sys.executable, "-c", _EAGER_PLAN], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == json.loads(json.dumps(plan_stack("staging").to_json(), sort_keys=True))
    import pulumi_kubernetes.core.v1 as core_v1  # imported by the plan above, through the hook
    from qhub.offline.lazy_annotations import _PostponedAnnotationsLoader
    assert isinstance(core_v1.__spec__.loader, _PostponedAnnotationsLoader)
    # Its resource modules load on first use, and still show as the package's names.
    assert "Namespace" in core_v1._LAZY_EXPORTS and "Namespace" in dir(core_v1)
    assert core_v1.Namespace.__module__ == "pulumi_kubernetes.core.v1.Namespace"


def test_prefetched_sdk_modules_cover_what_each_plan_creates() -> None:
    """`qhub plan` imports each layer's SDK_MODULES while the QHub file is parsed; a list that
    misses a module only costs time, but a stale one should not go unnoticed."""
    import importlib

    from qhub.stack import CLOUD_MODULES, DNS_MODULES
    from qhub.config import Provider, load_file
    from tests.conftest import all_plans, plan_sources
    from tests.support.conformance import args_class

    platform = set(importlib.import_module("qhub.platform").SDK_MODULES)
    sources = plan_sources()
    for label, thunk in all_plans().items():
        plan = thunk()
        listed = platform | set(importlib.import_module(CLOUD_MODULES[Provider(plan.provider)]).SDK_MODULES)
        dns = load_file(sources[label]).config.dns
        if dns is not None and dns.creates_record:  # the DNS module of the stack (qhub/dns) lists its own
            listed |= set(importlib.import_module(DNS_MODULES[dns.provider]).SDK_MODULES)
        for resource in plan.resources:
            if not resource.custom or resource.read or resource.type.startswith(("pulumi:providers:", "auth0:")):
                continue  # providers live in the packages' roots; Auth0 only when provisioning
            cls = args_class(resource.type)
            if cls is None:
                continue
            package = cls.__module__.rsplit(".", 1)[0]  # pulumi_aws.ec2.vpc -> pulumi_aws.ec2
            assert package in listed, f"{label}: {resource.type} comes from {package}, not in SDK_MODULES"
