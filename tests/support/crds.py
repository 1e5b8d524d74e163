"""Custom resources validated against the CRD their chart ships, as the API server would.

A CRD's `openAPIV3Schema` is a *structural* OpenAPI v3 schema with Kubernetes extensions, not a
JSON Schema. `json_schema` turns one into Draft 2020-12 with the API server's meaning:

- an object field the schema does not declare is an error (the server prunes it, or refuses it
  under strict field validation, `kubectl apply`'s default), unless the node says
  `x-kubernetes-preserve-unknown-fields: true`;
- `x-kubernetes-int-or-string` takes an integer or a string, `nullable` also takes null;
- `x-kubernetes-embedded-resource` objects carry apiVersion, kind and metadata;
- `x-kubernetes-list-type: set` items are unique, `map` items are unique by their map keys;
- OpenAPI's boolean exclusiveMinimum/Maximum become JSON Schema's numbers;
- `pattern` is RE2 (google-re2), the syntax of the server's Go regexp;
- at the root, apiVersion, kind and metadata are always allowed and metadata is checked against
  the strict ObjectMeta of the Kubernetes version (tests/support/kubernetes_schema.py).

`allOf`/`anyOf`/`oneOf`/`not` only constrain values in a structural schema (the fields they name
must also be declared beside them), so no unknown-field rule is added inside them. `format` is
not checked (the server checks a few formats only). CEL rules (`x-kubernetes-validations`) are
evaluated where an object reaches them (tests/support/cel.py). A schema keyword this module does
not know is an error rather than ignored.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jsonschema
import re2
from jsonschema import validators

from tests.support.kubernetes_schema import (
    DEFINITIONS_URI,
    OBJECT_META,
    SchemaError,
    group_version_kind,
    registry,
    schema_version,
)

# Keywords that mean the same in a CRD schema and in JSON Schema 2020-12.
_SAME = {"type", "enum", "required", "pattern", "minLength", "maxLength", "minItems", "maxItems",
         "uniqueItems", "minProperties", "maxProperties", "multipleOf", "minimum", "maximum"}
# Keywords with no bearing on whether an object is valid.
_IGNORED = {"description", "title", "default", "example", "externalDocs", "format", "x-kubernetes-map-type",
            "x-kubernetes-list-map-keys", "$schema"}
_COMBINATORS = ("allOf", "anyOf", "oneOf")
_OBJECT_META = {"$ref": f"{DEFINITIONS_URI}#/$defs/{OBJECT_META}"}


class CustomResourceError(SchemaError):
    """A custom resource has no CRD in the plan, or its CRD cannot be used."""


def json_schema(node: Mapping[str, Any], *, structural: bool = True) -> dict[str, Any]:
    """The JSON Schema of one CRD schema node. `structural` is False inside value-only
    combinators, where undeclared fields are not the node's to refuse."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SAME:
            out[key] = value
        elif key in _IGNORED or key in {"x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
                                        "x-kubernetes-int-or-string", "nullable", "exclusiveMinimum",
                                        "exclusiveMaximum", "properties", "additionalProperties"}:
            continue
        elif key == "items":
            out["items"] = json_schema(value, structural=structural)
        elif key in _COMBINATORS:
            out[key] = [json_schema(branch, structural=False) for branch in value]
        elif key == "not":
            out["not"] = json_schema(value, structural=False)
        elif key == "x-kubernetes-list-type":
            if value == "set":
                out["uniqueItems"] = True
            elif value == "map":
                out["x-list-map-keys"] = list(node.get("x-kubernetes-list-map-keys") or [])
        elif key == "x-kubernetes-validations":
            out["x-cel-rules"] = [{"rule": rule["rule"], "message": rule.get("message")} for rule in value]
        else:
            raise CustomResourceError(f"CRD schema keyword {key!r} is not handled by tests/support/crds.py")
    for bound in ("Minimum", "Maximum"):
        if node.get(f"exclusive{bound}") is True and bound.lower() in out:
            out[f"exclusive{bound}"] = out.pop(bound.lower())
    properties = {name: json_schema(child, structural=structural) for name, child in (node.get("properties") or {}).items()}
    if node.get("x-kubernetes-embedded-resource"):
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties["metadata"] = _OBJECT_META
    if properties:
        out["properties"] = properties
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        out["additionalProperties"] = json_schema(extra, structural=structural)
    elif extra is not None:
        out["additionalProperties"] = extra
    elif structural and not node.get("x-kubernetes-preserve-unknown-fields") and (
            properties or node.get("type") == "object"):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if node.get("nullable"):
        out = {"anyOf": [{"type": "null"}, out]}
    return out


def root_schema(open_api_v3: Mapping[str, Any]) -> dict[str, Any]:
    """A custom resource's schema: its CRD's, with the fields every object has. The server
    checks metadata as ObjectMeta; what the CRD says of it (often just `type: object`) can only
    narrow that."""
    schema = json_schema(open_api_v3)
    properties = schema.setdefault("properties", {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    declared = (open_api_v3.get("properties") or {}).get("metadata")
    properties["metadata"] = {"allOf": [_OBJECT_META, json_schema(declared, structural=False)]} if declared else _OBJECT_META
    return schema


def _list_map_keys(validator: Any, keys: list[str], instance: Any, schema: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
    if not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        if isinstance(item, dict):
            identity = json.dumps([item.get(key) for key in keys])
            if identity in seen:
                yield jsonschema.ValidationError(f"duplicate entry for map keys {keys}: {identity}")
            seen.add(identity)


def _cel_rules(validator: Any, rules: list[dict[str, Any]], instance: Any, schema: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
    from tests.support import cel  # cel-python's grammar costs half a second: only for objects reaching a rule

    for message in cel.failures(rules, instance):
        yield jsonschema.ValidationError(message)


@functools.cache
def _re2(pattern: str) -> Any:
    return re2.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[jsonschema.ValidationError]:
    """`pattern` as the API server reads it: Go's RE2 syntax (`^(?i)(abort|warn)?$` is valid
    there and an error for Python's re)."""
    if validator.is_type(instance, "string") and not _re2(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(jsonschema.Draft202012Validator,
                               {"pattern": _pattern, "x-list-map-keys": _list_map_keys, "x-cel-rules": _cel_rules})
_VALIDATORS: dict[tuple[str, str], Any] = {}


def _validator(open_api_v3: Mapping[str, Any], kube_version: str) -> Any:
    """One validator per (Kubernetes schema version, CRD schema): plans share their charts' CRDs."""
    version = schema_version(kube_version)
    key = (version, hashlib.sha256(json.dumps(open_api_v3, sort_keys=True).encode()).hexdigest())
    if key not in _VALIDATORS:
        # Not check_schema: the metaschema would judge `pattern`s by Python's re, not RE2.
        schema = root_schema(open_api_v3)
        _VALIDATORS[key] = _Validator(schema, registry=registry(kube_version))
    return _VALIDATORS[key]


class CustomResourceDefinitions:
    """The CRDs among a set of objects (a plan's rendered releases), by the kinds they serve."""

    def __init__(self, objects: Iterable[Mapping[str, Any]]) -> None:
        self.versions: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        for crd in objects:
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                self.versions[(spec["group"], version["name"], spec["names"]["kind"])] = version

    def validate(self, manifest: dict[str, Any], kube_version: str) -> None:
        """Raise SchemaError unless a served version of a CRD here defines the object and its
        schema accepts it."""
        group, version, kind = group_version_kind(manifest)
        found = self.versions.get((group, version, kind))
        if found is None:
            raise CustomResourceError(f"no CRD in the plan defines {kind} in {group}/{version}")
        if not found.get("served", False):
            raise CustomResourceError(f"the CRD of {kind} does not serve {group}/{version}")
        schema = (found.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            raise CustomResourceError(f"the CRD of {kind} has no openAPIV3Schema for {version}")
        error = jsonschema.exceptions.best_match(_validator(schema, kube_version).iter_errors(manifest))
        if error is not None:
            raise SchemaError(error)
