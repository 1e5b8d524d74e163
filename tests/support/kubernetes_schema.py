"""Strict validation of built-in Kubernetes objects, with kubernetes-validate's schemas, at the
Kubernetes version a stack runs.

kubernetes-validate ships, per Kubernetes version, the API's OpenAPI definitions turned into JSON
Schema, and a "strict" variant of them in which unknown fields are errors (as the API server's
strict field validation, `kubectl apply`'s default, judges them). Its own `validate()` reads the
multi-megabyte definitions file on every call; the tests validate thousands of objects, so the
definitions are read once per version and one validator kept per (version, kind).

Kinds are found by the group/version/kind each definition declares
(`x-kubernetes-group-version-kind`), so which objects are built in at a version is the API's own
answer, not a list of ours: anything else is a custom resource (tests/support/crds.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import jsonschema
from kubernetes_validate.utils import all_versions, schema_contents
from referencing import Registry, Resource

from qhub import versions

DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class SchemaError(Exception):
    """An object does not fit its kind's schema."""

    def __init__(self, error: jsonschema.ValidationError | str, path: list[Any] | None = None) -> None:
        if isinstance(error, jsonschema.ValidationError):
            self.path = list(error.absolute_path)
            self.message = error.message
        else:
            self.path = path or []
            self.message = error
        super().__init__(f"{'/'.join(map(str, self.path))}: {self.message}" if self.path else self.message)


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


@functools.cache
def schema_version(kube_version: str) -> str:
    """The newest version kubernetes-validate has schemas for that is not newer than the
    cluster's minor (an API a newer schema would accept may not exist on the cluster yet)."""
    known = [v for v in all_versions() if _minor(v) <= _minor(kube_version)]
    if not known:
        raise SchemaError(f"kubernetes-validate has no schemas for Kubernetes {kube_version} or older")
    return max(known, key=_minor)


@functools.cache
def _definitions(version: str) -> dict[str, Any]:
    contents: dict[str, Any] = schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
    return contents


@functools.cache
def _registry(version: str) -> Registry:
    return Resource.from_contents(_definitions(version)) @ Registry()


def registry(kube_version: str) -> Registry:
    """The API definitions at a version, for schemas that refer to them (a CRD's ObjectMeta)."""
    return _registry(schema_version(kube_version))


@functools.cache
def _kinds(version: str) -> dict[tuple[str, str, str], str]:
    """(group, version, kind) -> definition name, for every kind the API serves at `version`."""
    kinds = {}
    for name, definition in _definitions(version)["$defs"].items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            kinds.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return kinds


def group_version_kind(manifest: dict[str, Any]) -> tuple[str, str, str]:
    group, _, api_version = str(manifest.get("apiVersion", "")).rpartition("/")
    return group, api_version, str(manifest.get("kind", ""))


def is_built_in(manifest: dict[str, Any], kube_version: str) -> bool:
    """Whether the API server serves this object's kind itself (not through a CRD)."""
    return group_version_kind(manifest) in _kinds(schema_version(kube_version))


def definition_validator(name: str, kube_version: str) -> jsonschema.Draft202012Validator:
    """A strict validator for one named API definition (such as ObjectMeta) at a version."""
    return _definition_validator(name, schema_version(kube_version))


@functools.cache
def _definition_validator(name: str, version: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"{DEFINITIONS_URI}#/$defs/{name}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry(version))


def validate(manifest: dict[str, Any], kube_version: str = versions.DEFAULT_KUBERNETES_VERSION) -> None:
    """Raise SchemaError unless the object fits its built-in kind's strict schema at the version
    (a kind the API does not serve at that version is an error too)."""
    version = schema_version(kube_version)
    name = _kinds(version).get(group_version_kind(manifest))
    if name is None:
        raise SchemaError(f"{manifest.get('apiVersion')} {manifest.get('kind')} is not a kind Kubernetes {version} serves")
    # Plans share most objects (a chart's CRDs, its RBAC): each distinct one is validated once.
    key = (version, hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest())
    if key in _VALID:
        return
    try:
        _definition_validator(name, version).validate(manifest)
    except jsonschema.ValidationError as error:
        raise SchemaError(error) from None
    _VALID.add(key)


_VALID: set[tuple[str, str]] = set()


def manifest_of(inputs: dict[str, Any]) -> dict[str, Any]:
    """A planned object's inputs as the API server would see them: a Secret's data recorded as
    "[secret]" stands for a map of strings."""
    manifest = dict(inputs)
    for key in ("data", "stringData"):
        if manifest.get(key) == "[secret]":
            manifest[key] = {"redacted": ""}
    return manifest
