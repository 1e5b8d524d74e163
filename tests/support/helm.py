"""Helm releases of a plan, rendered by the real helm from the chart sources in ../shared/charts.

Each planned `kubernetes:helm.sh/v3:Release` names its chart, version, release name, namespace
and values; `render_release` runs `helm template` on the same chart at the same version (from
`<shared>/charts/<chart>-<version>`, as its publisher ships it) with those values and the
Kubernetes version of the stack, so what the tests inspect is what the cluster would receive.
helm validates the values against the chart's values.schema.json on the way; any template or
schema error is a HelmError. The binary is the one scripts/install-binaries put into .venv/bin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from qhub import versions
from qhub.config import QHubConfig
from qhub.config.providers.common import CloudBlock
from qhub.offline.engine import Plan, PlannedResource
from tests.conftest import SHARED

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
HELM = Path(sys.executable).parent / "helm"


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader, plus YAML 1.1's `=` value key, which some CRDs have as a bare
    string (kube-prometheus-stack's) and the safe loader refuses."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class HelmError(AssertionError):
    """helm refused to render a release (template error, values against the chart's schema)."""


def charts_dir() -> Path:
    return SHARED / "charts"


def stack_kubernetes_version(config: QHubConfig) -> str:
    """The Kubernetes minor the stack's cluster runs.

    The configured minor when the cloud supports it. A version out of the cloud's standard
    support (old qhub-ops files say 1.14) cannot be created; validate warns that it must be
    upgraded first, so such a stack is rendered at the oldest minor the cloud still offers.
    An existing cluster runs whatever it runs: the default minor stands for it.
    """
    cloud = config.cloud
    if not isinstance(cloud, CloudBlock):
        return versions.DEFAULT_KUBERNETES_VERSION
    supported = versions.SUPPORTED_KUBERNETES_MINORS.get(config.provider.value, ())
    if supported and cloud.kubernetes_minor not in supported:
        return min(supported, key=lambda minor: tuple(int(part) for part in minor.split(".")))
    return cloud.kubernetes_minor


def chart_source(chart: str, version: str, charts: Path | None = None) -> Path:
    path = (charts or charts_dir()) / f"{chart}-{version}"
    if not (path / "Chart.yaml").is_file():
        raise HelmError(f"no chart source for {chart} {version} at {path}")
    return path


def render(chart: str, version: str, release_name: str, namespace: str, values: dict[str, Any],
           kube_version: str, *, include_crds: bool = True, charts: Path | None = None) -> list[dict[str, Any]]:
    """The objects `helm template` renders, in its order (CRDs of the chart's crds/ first)."""
    if not HELM.is_file():
        raise HelmError(f"{HELM} is missing: run scripts/bootstrap --dev")
    command = [
        str(HELM), "template", release_name, str(chart_source(chart, version, charts)),
        "--namespace", namespace, "--kube-version", f"{kube_version}.0" if kube_version.count(".") == 1 else kube_version,
        "--values", "-",
    ]
    if include_crds:
        command.append("--include-crds")
    done = subprocess.run(command, input=json.dumps(values), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HelmError(f"helm template {chart} {version} ({release_name}) failed:\n{done.stderr.strip()}")
    return [doc for doc in yaml.load_all(done.stdout, Loader=_Loader) if doc]


def render_release(release: PlannedResource, kube_version: str, charts: Path | None = None) -> list[dict[str, Any]]:
    """One planned release, rendered with its own inputs."""
    inputs = release.inputs
    return render(
        inputs["chart"], inputs["version"], inputs["name"], inputs["namespace"], inputs.get("values") or {},
        kube_version, include_crds=not inputs.get("skipCrds", False), charts=charts,
    )


EXTENSIONS_TYPE = "qhub:platform:Extensions"


def releases(plan: Plan) -> list[PlannedResource]:
    """The plan's releases of the charts in ../shared/charts: all but the admin's `helm_extensions`.
    Their charts are whatever the admin names and are not in the shared folder, so helm cannot
    render them offline: the tests stop at those releases' inputs (tests/test_extensions.py)."""
    extensions = {r.urn for r in plan.of_type(EXTENSIONS_TYPE)}
    return [r for r in plan.of_type(RELEASE_TYPE) if r.parent not in extensions]


def release_named(plan: Plan, release_name: str) -> PlannedResource:
    """The planned release whose Helm release name is `release_name`."""
    (found,) = [r for r in releases(plan) if r.inputs["name"] == release_name]
    return found


_RENDERED: dict[tuple[int, str], dict[str, list[dict[str, Any]]]] = {}


def render_plan(plan: Plan, kube_version: str) -> dict[str, list[dict[str, Any]]]:
    """Every release of a plan, rendered: Helm release name -> objects. Cached per plan object
    (conftest keeps each plan for the whole run); callers must not change what they get."""
    key = (id(plan), kube_version)
    if key not in _RENDERED:
        _RENDERED[key] = {r.inputs["name"]: render_release(r, kube_version) for r in releases(plan)}
    return _RENDERED[key]


def objects_of(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [m for m in manifests if m.get("kind") == kind and (name is None or m["metadata"]["name"] == name)]
