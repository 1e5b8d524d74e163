"""Pulumi mocks that answer like the clouds do: ids, ARNs, endpoints, kubeconfigs, invokes.

Each cloud keeps its realistic outputs in qhub/offline/mock_outputs/<cloud>.py as two tables:
RESOURCES (type token -> function(name, inputs) -> extra outputs) and CALLS (invoke token ->
function(args) -> result). A type with no entry echoes its inputs, as a provider would for
the properties it was given.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from typing import Any

import pulumi

ResourceOutputs = Callable[[str, dict[str, Any]], dict[str, Any]]
CallResult = Callable[[dict[str, Any]], dict[str, Any]]

_TABLES = ("aws", "gcp", "digitalocean", "azure", "kubernetes", "auth0", "cloudflare", "common")


def fake_id(name: str, length: int = 8) -> str:
    """A stable hexadecimal id derived from a name, so plans are deterministic."""
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _load_tables() -> tuple[dict[str, ResourceOutputs], dict[str, CallResult]]:
    resources: dict[str, ResourceOutputs] = {}
    calls: dict[str, CallResult] = {}
    for table in _TABLES:
        try:
            module = importlib.import_module(f"qhub.offline.mock_outputs.{table}")
        except ModuleNotFoundError as error:
            if error.name != f"qhub.offline.mock_outputs.{table}":
                raise
            continue
        resources.update(getattr(module, "RESOURCES", {}))
        calls.update(getattr(module, "CALLS", {}))
    return resources, calls


class CloudMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes with realistic values."""

    def __init__(self) -> None:
        self.resources, self.calls = _load_tables()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        make = self.resources.get(args.typ)
        if make is not None:
            outputs.update(make(args.name, args.inputs))
        resource_id = outputs.pop("__id", None) or f"{args.name}-{fake_id(args.typ + args.name)}"
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        answer = self.calls.get(args.token)
        if answer is None:
            raise KeyError(
                f"the offline engine has no mock answer for invoke {args.token}; "
                "add one to qhub/offline/mock_outputs"
            )
        return answer(dict(args.args))
