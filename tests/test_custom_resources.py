"""The custom resource validator (tests/support/crds.py) is strict, on the CRDs the charts ship.

Each case takes a real object of the staging plan (a ClusterIssuer QHub plans, a Traefik
IngressRoute the dask-gateway chart renders) and the real CRD of the plan's charts, changes one
thing and expects the refusal the API server would give. Every plan's objects are validated in
tests/test_kubernetes_objects.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from qhub.config import load_file
from tests.conftest import ROOT, plan_stack
from tests.support.api_schemas import ApiSchemas, ClusterObject, plan_api
from tests.support.crds import CustomResourceError, json_schema
from tests.support.kubernetes_schema import SchemaError


@pytest.fixture(scope="module")
def staging() -> tuple[ApiSchemas, list[ClusterObject]]:
    return plan_api(plan_stack("staging"), load_file(ROOT / "stacks" / "staging.yaml").config)


def _one(objects: list[ClusterObject], kind: str, origin: str) -> dict[str, Any]:
    found = [o.manifest for o in objects if o.manifest.get("kind") == kind and o.origin.startswith(origin)]
    assert found, f"no {kind} from {origin}"
    return copy.deepcopy(found[0])


@pytest.fixture
def issuer(staging: tuple[ApiSchemas, list[ClusterObject]]) -> dict[str, Any]:
    """An ACME ClusterIssuer as QHub plans it."""
    issuers = [o.manifest for o in staging[1] if o.manifest.get("kind") == "ClusterIssuer" and "acme" in o.manifest["spec"]]
    return copy.deepcopy(issuers[0])


def test_planned_cluster_issuer_is_valid(staging: tuple[ApiSchemas, list[ClusterObject]], issuer: dict[str, Any]) -> None:
    staging[0].validate(issuer)


@pytest.mark.parametrize(("change", "refusal"), [
    (lambda m: m["spec"]["acme"].update(emial="x@example.org"), "'emial' was unexpected"),
    (lambda m: m["spec"]["acme"]["solvers"][0]["http01"]["ingress"].update(ingressClass="nginx"), "'ingressClass' was unexpected"),
    (lambda m: m.update(spek={}), "'spek' was unexpected"),
    (lambda m: m["metadata"].update(lables={}), "'lables' was unexpected"),
    (lambda m: m["spec"]["acme"].update(server=443), "not of type 'string'"),
    (lambda m: m["spec"]["acme"].pop("privateKeySecretRef"), "'privateKeySecretRef' is a required property"),
])
def test_cluster_issuer_mistakes_are_refused(staging: tuple[ApiSchemas, list[ClusterObject]], issuer: dict[str, Any],
                                              change: Any, refusal: str) -> None:
    change(issuer)
    with pytest.raises(SchemaError, match=refusal):
        staging[0].validate(issuer)


def test_list_map_keys_are_unique(staging: tuple[ApiSchemas, list[ClusterObject]], issuer: dict[str, Any]) -> None:
    """The solver pod's imagePullSecrets is a list-map keyed by name in cert-manager's CRD."""
    ingress = issuer["spec"]["acme"]["solvers"][0]["http01"]["ingress"]
    ingress["podTemplate"] = {"spec": {"imagePullSecrets": [{"name": "registry"}]}}
    staging[0].validate(issuer)
    ingress["podTemplate"]["spec"]["imagePullSecrets"].append({"name": "registry"})
    with pytest.raises(SchemaError, match="duplicate entry"):
        staging[0].validate(issuer)


def test_int_or_string(staging: tuple[ApiSchemas, list[ClusterObject]]) -> None:
    """A Traefik IngressRoute's service port is x-kubernetes-int-or-string in the chart's CRD."""
    api, objects = staging
    route = _one(objects, "IngressRoute", "release dask-gateway")
    service = route["spec"]["routes"][0]["services"][0]
    for port in (8000, "api"):
        service["port"] = port
        api.validate(route)
    for port in (80.5, True, None):
        service["port"] = port
        with pytest.raises(SchemaError):
            api.validate(route)


def test_preserved_unknown_fields_only_where_the_crd_says(staging: tuple[ApiSchemas, list[ClusterObject]]) -> None:
    """DaskCluster's schema keeps any fields (x-kubernetes-preserve-unknown-fields); its metadata
    is still ObjectMeta."""
    cluster = {"apiVersion": "gateway.dask.org/v1alpha1", "kind": "DaskCluster", "metadata": {"name": "c"},
               "spec": {"anything": {"at": ["all"]}}}
    staging[0].validate(cluster)
    cluster["metadata"]["lables"] = {}
    with pytest.raises(SchemaError, match="'lables' was unexpected"):
        staging[0].validate(cluster)


def test_custom_resource_without_its_crd_is_refused(staging: tuple[ApiSchemas, list[ClusterObject]]) -> None:
    """No chart of the staging plan ships a CRD for this kind."""
    monitor = {"apiVersion": "widgets.example.org/v1", "kind": "Widget", "metadata": {"name": "m"}, "spec": {}}
    with pytest.raises(CustomResourceError, match="no CRD in the plan defines Widget"):
        staging[0].validate(monitor)


def test_cel_rules_are_evaluated(staging: tuple[ApiSchemas, list[ClusterObject]], issuer: dict[str, Any]) -> None:
    """cert-manager's venafi block must name exactly one of tpp, cloud or ngts (a CEL rule)."""
    issuer["spec"] = {"venafi": {"zone": "z", "cloud": {"apiTokenSecretRef": {"name": "s"}}}}
    staging[0].validate(issuer)
    issuer["spec"]["venafi"]["tpp"] = {"url": "https://tpp.example.org", "credentialsRef": {"name": "t"}}
    with pytest.raises(SchemaError, match="exactly one of tpp, cloud, or ngts must be configured"):
        staging[0].validate(issuer)


def test_nullable_and_unknown_keywords() -> None:
    """No chart CRD uses `nullable` today, so this checks the translation itself: null is taken
    only where a node says nullable, and a keyword the translator does not know is an error
    rather than ignored."""
    import jsonschema

    schema = json_schema({"type": "object", "properties": {"a": {"type": "string", "nullable": True}, "b": {"type": "string"}}})
    jsonschema.validate({"a": None, "b": "x"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"b": None}, schema)
    with pytest.raises(CustomResourceError, match="'x-kubernetes-something'"):
        json_schema({"type": "object", "x-kubernetes-something": True})
