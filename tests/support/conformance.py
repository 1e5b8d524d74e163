"""Checks a planned resource's inputs against its provider SDK, the offline stand-in for the
input validation a real `pulumi preview` does.

The provider SDKs are generated from the provider schemas: each resource's `<Name>Args` class
names its properties (engine names on the `pulumi.getter`s), marks the required ones (constructor
parameters without a default) and types nested objects with further `...Args` classes. Mocks
accept anything; this catches a misspelled key in a nested dict or a missing property.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import typing
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ForwardRef

PACKAGES = {
    "aws": "pulumi_aws", "gcp": "pulumi_gcp", "digitalocean": "pulumi_digitalocean",
    "azure-native": "pulumi_azure_native", "kubernetes": "pulumi_kubernetes", "auth0": "pulumi_auth0",
    "random": "pulumi_random", "tls": "pulumi_tls", "cloudflare": "pulumi_cloudflare",
}
# Kubernetes API groups whose kinds are custom resources (CRDs of the charts we install): the
# SDK has no Args class for them; their content is checked against the charts' CRDs elsewhere.
CUSTOM_RESOURCE_GROUPS = ("cert-manager.io", "acme.cert-manager.io", "k8s.nginx.org", "gateway.dask.org", "traefik.io",
                          "monitoring.coreos.com")
PLACEHOLDERS = ("[secret]", "[unknown]")


def args_class(type_token: str) -> type | None:
    """The SDK's Args class of a resource type token; None for custom resources of CRDs."""
    package, module_path, name = type_token.split(":")
    if package == "pulumi" and module_path == "providers":
        module = importlib.import_module(PACKAGES[name])
        return module.ProviderArgs
    python_package = PACKAGES[package]
    if package == "kubernetes":
        group, version = module_path.split("/")
        if group.endswith(CUSTOM_RESOURCE_GROUPS):
            return None
        short = {"helm.sh": "helm"}.get(group, group.split(".")[0])
        module = importlib.import_module(f"{python_package}.{short}.{version}")
    else:
        first = module_path.split("/")[0]
        module = importlib.import_module(python_package if first == "index" else f"{python_package}.{first}")
        # Where a nested input type has the resource's Args name (azure-native's network.SubnetArgs
        # is a VirtualNetwork's subnet), the SDK names the resource's own `<Name>InitArgs`.
        resource = getattr(module, name, None)
        own = getattr(importlib.import_module(resource.__module__), f"{name}InitArgs", None) if resource else None
        if own is not None:
            return own
    return getattr(module, f"{name}Args")


@dataclass(frozen=True)
class Shape:
    """What a property holds: an Args object, a list or map of something, or a scalar."""

    kind: str  # "object", "list", "map", "scalar", "any"
    inner: Any = None
    scalar_ok: bool = False  # a union that also takes a plain value (an IAM policy as JSON text)
    others: tuple[type, ...] = ()  # a union of several Args classes: the value may fit any of them


def _resolve(annotation: Any, module: ModuleType) -> Any:
    if isinstance(annotation, str):
        annotation = ForwardRef(annotation)
    if isinstance(annotation, ForwardRef):
        try:
            return eval(annotation.__forward_arg__, vars(module))  # noqa: S307 - SDK annotations
        except Exception:  # noqa: BLE001 - 'Output[T]' and friends are not shapes
            return None
    return annotation


@functools.cache
def shape_of(annotation: Any, module: ModuleType) -> Shape:
    """The shape an SDK annotation allows, looking through Optional, Input and Output (the same
    annotation of the same module has the same shape: cached, it is asked thousands of times)."""
    annotation = _resolve(annotation, module)
    if annotation is None or annotation is type(None):
        return Shape("any")
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        shapes = [shape_of(a, module) for a in args]
        scalar_ok = any(s.kind == "scalar" for s in shapes)
        for kind in ("object", "list", "map"):
            found = [s for s in shapes if s.kind == kind]
            if found:
                others = tuple(s.inner for s in found[1:]) if kind == "object" else ()
                return Shape(found[0].kind, found[0].inner, scalar_ok, others)
        return Shape("scalar")
    if origin in (Awaitable, typing.Awaitable) or (origin is not None and getattr(origin, "__name__", "") == "Awaitable"):
        return shape_of(args[0], module) if args else Shape("any")
    if origin in (list, Sequence, typing.Sequence) or (origin is not None and getattr(origin, "__name__", "") == "Sequence"):
        return Shape("list", shape_of(args[0], module) if args else Shape("any"))
    if origin in (dict, Mapping, typing.Mapping) or (origin is not None and getattr(origin, "__name__", "") == "Mapping"):
        return Shape("map", shape_of(args[1], module) if len(args) > 1 else Shape("any"))
    if inspect.isclass(annotation) and annotation.__name__.endswith("Args") and _properties(annotation):
        return Shape("object", annotation)
    if annotation is Any:
        return Shape("any")
    return Shape("scalar")


@functools.cache
def _properties(cls: type) -> dict[str, property]:
    """Engine name -> property of an Args class."""
    found = {}
    for klass in reversed(cls.__mro__):
        for value in vars(klass).values():
            if isinstance(value, property) and hasattr(value.fget, "_pulumi_name"):
                found[value.fget._pulumi_name] = value  # type: ignore[union-attr]
    return found


@functools.cache
def _required(cls: type) -> list[str]:
    """Engine names of the constructor parameters without a default."""
    properties = {prop.fget.__name__: name for name, prop in _properties(cls).items()}  # type: ignore[union-attr]
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [properties.get(p.name, p.name) for p in parameters
            if p.kind is p.KEYWORD_ONLY and p.default is inspect.Parameter.empty]


def problems(value: Any, shape: Shape, path: str) -> list[str]:
    """Where `value` does not fit `shape`."""
    if value in PLACEHOLDERS or value is None or shape.kind in ("any", "scalar"):
        return []
    if shape.scalar_ok and isinstance(value, (str, int, float, bool)):
        return []
    if shape.kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, shape.inner, f"{path}[{i}]")]
    if shape.kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        return [p for key, item in value.items() for p in problems(item, shape.inner, f"{path}.{key}")]
    # A union of objects (azure-native's policy rules: a backup rule or a retention rule): the
    # value fits if it fits one of them; otherwise the closest one's mismatches are reported.
    found = [object_problems(value, cls, path) for cls in (shape.inner, *shape.others)]
    return min(found, key=len)


def object_problems(value: Any, cls: type, path: str) -> list[str]:
    """Unknown and missing properties of an Args object, at every depth."""
    if not isinstance(value, dict):
        return [f"{path}: expected an object ({cls.__name__}), got {type(value).__name__}"]
    module = importlib.import_module(cls.__module__)
    properties = _properties(cls)
    found = []
    for key, item in value.items():
        if key not in properties:
            found.append(f"{path}.{key}: {cls.__name__} has no property {key!r}")
            continue
        annotation = properties[key].fget.__annotations__.get("return")  # type: ignore[union-attr]
        found += problems(item, shape_of(annotation, module), f"{path}.{key}")
    for key in _required(cls):
        if key not in value:
            found.append(f"{path}: required property {key!r} of {cls.__name__} is missing")
    return found


def resource_problems(type_token: str, inputs: dict[str, Any]) -> list[str]:
    """Every mismatch between a resource's recorded inputs and its SDK's Args class."""
    cls = args_class(type_token)
    if cls is None:
        return []
    if type_token.startswith("pulumi:providers:"):
        # Provider inputs reach the engine JSON-encoded; only their names can be checked.
        names = _properties(cls)
        return [f"{key}: {cls.__name__} has no property {key!r}" for key in inputs if key not in names and key != "version"]
    return object_problems(inputs, cls, type_token)
