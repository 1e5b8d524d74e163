"""What a stack's API server accepts: built-in kinds by the strict Kubernetes schemas of the
stack's version (tests/support/kubernetes_schema.py), custom resources by the CRDs the plan's
charts install (tests/support/crds.py).

An object is a custom resource exactly when the Kubernetes version does not serve its kind; one
whose CRD is not among the plan's objects fails, as `pulumi up` would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from qhub.config import QHubConfig
from qhub.offline.engine import Plan
from tests.support.crds import CustomResourceDefinitions
from tests.support.helm import render_plan, stack_kubernetes_version
from tests.support.kubernetes_schema import SchemaError, is_built_in, manifest_of, validate


class ApiSchemas:
    """The schemas of one cluster: a Kubernetes version and the CRDs installed on it."""

    def __init__(self, kube_version: str, objects: Iterable[Mapping[str, Any]]) -> None:
        self.kube_version = kube_version
        self.crds = CustomResourceDefinitions(objects)

    def validate(self, manifest: dict[str, Any]) -> None:
        """Raise SchemaError unless the API server would accept the object as it is."""
        if is_built_in(manifest, self.kube_version):
            validate(manifest, self.kube_version)
        else:
            self.crds.validate(manifest, self.kube_version)


@dataclass(frozen=True)
class ClusterObject:
    """One object a plan puts into the cluster, and where it comes from (for messages)."""

    origin: str
    manifest: dict[str, Any]

    def describe(self) -> str:
        metadata = self.manifest.get("metadata") or {}
        return f"{self.origin}: {self.manifest.get('kind')} {metadata.get('name') or metadata.get('generateName')}"


def qhub_objects(plan: Plan) -> Iterator[ClusterObject]:
    """The Kubernetes objects QHub plans itself (not Helm releases, not objects it only reads)."""
    for resource in plan.resources:
        if resource.custom and not resource.read and resource.type.startswith("kubernetes:") and "kind" in resource.inputs:
            yield ClusterObject(f"qhub {resource.name}", manifest_of(resource.inputs))


def rendered_objects(plan: Plan, kube_version: str) -> Iterator[ClusterObject]:
    """Every object of every Helm release of the plan, as the real helm renders it."""
    for release, manifests in render_plan(plan, kube_version).items():
        for manifest in manifests:
            yield ClusterObject(f"release {release}", manifest)


def plan_api(plan: Plan, config: QHubConfig) -> tuple[ApiSchemas, list[ClusterObject]]:
    """The stack's API schemas (its Kubernetes version, its charts' CRDs) and every object the
    plan puts into the cluster."""
    kube_version = stack_kubernetes_version(config)
    objects = [*rendered_objects(plan, kube_version), *qhub_objects(plan)]
    return ApiSchemas(kube_version, (o.manifest for o in objects)), objects


def refusals(api: ApiSchemas, objects: Iterable[ClusterObject]) -> list[str]:
    """One line per object the API server would refuse."""
    found = []
    for item in objects:
        try:
            api.validate(item.manifest)
        except SchemaError as error:
            found.append(f"{item.describe()}: {error}")
    return found
