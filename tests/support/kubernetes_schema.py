"""Strict Kubernetes schema validation with the schemas of kubernetes-validate, cached.

kubernetes_validate.validate reads the multi-megabyte definitions file on every call; the tests
validate hundreds of objects, so the definitions and one validator per kind are kept here. The
files, their selection and the strict mode are kubernetes-validate's own.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

KUBERNETES_VERSION = "1.33"


class SchemaError(Exception):
    """An object does not fit its kind's schema."""

    def __init__(self, error: jsonschema.ValidationError) -> None:
        self.path = list(error.absolute_path)
        self.message = error.message
        super().__init__(f"{'/'.join(map(str, self.path))}: {self.message}")


def _schema_dir() -> str:
    from kubernetes_validate.utils import all_versions, major_minor

    version = [v for v in all_versions() if major_minor(v) <= KUBERNETES_VERSION][-1]
    return f"v{version}-local-strict"


@functools.cache
def _registry() -> Registry:
    definitions = schema_contents(f"kubernetes-json-schema/{_schema_dir()}/_definitions.json", KUBERNETES_VERSION)
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # rbac.authorization.k8s.io/v1 -> rbac-v1
    schema = schema_contents(f"kubernetes-json-schema/{_schema_dir()}/{kind.lower()}-{group_version}.json", KUBERNETES_VERSION)
    return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ _registry())


def validate(manifest: dict[str, Any]) -> None:
    """Raise SchemaError when the object does not fit its kind's strict 1.33 schema."""
    try:
        _validator(manifest["kind"], manifest["apiVersion"]).validate(manifest)
    except jsonschema.ValidationError as error:
        raise SchemaError(error) from None


def manifest_of(inputs: dict[str, Any]) -> dict[str, Any]:
    """A planned object's inputs as the API server would see them: a Secret's data recorded as
    "[secret]" stands for a map of strings."""
    manifest = dict(inputs)
    for key in ("data", "stringData"):
        if manifest.get(key) == "[secret]":
            manifest[key] = {"redacted": ""}
    return manifest
