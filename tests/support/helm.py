"""Helm releases of a plan, rendered by the real helm from the chart sources in ../shared/charts.

Each planned `kubernetes:helm.sh/v3:Release` names its chart, version, release name, namespace
and values; `render_release` runs `helm template` on the same chart at the same version (from
`<shared>/charts/<chart>-<version>`, as its publisher ships it) with those values and the
Kubernetes version of the stack, so what the tests inspect is what the cluster would receive.
helm validates the values against the chart's values.schema.json on the way; any template or
schema error is a HelmError. The binary is the one scripts/install-binaries put into .venv/bin.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from qhub import versions
from qhub.config import QHubConfig
from qhub.config.providers.common import CloudBlock
from qhub.offline.engine import Plan, PlannedResource
from tests.conftest import SHARED
from tests.support.session_cache import shared

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


def _enabled(values: dict[str, Any], condition: str, unset: bool) -> bool:
    """A dependency's `condition` (dotted paths, the first that is set decides), as Helm reads it;
    `unset` when no path is set."""
    for path in condition.split(","):
        node: Any = values
        for key in path.strip().split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, bool):
            return node
    return unset


_WITHOUT: dict[tuple[Path, tuple[str, ...]], Path] = {}


def _without_disabled_dependencies(source: Path, values: dict[str, Any]) -> Path:
    """The chart, or a copy of it without the dependencies the shared folder lacks.

    helm refuses to render a chart whose Chart.yaml names a dependency missing from charts/,
    even one its values disable (a packaging check: a disabled dependency renders nothing).
    kube-prometheus-stack's folder holds only its `crds` subchart; QHub disables the others.
    A missing dependency the values enable is an error here, as it would be a gap in the render.
    """
    chart = yaml.safe_load((source / "Chart.yaml").read_text())
    dependencies = chart.get("dependencies") or []
    missing = [d for d in dependencies if not (source / "charts" / d["name"]).is_dir()
               and not any((source / "charts").glob(f"{d['name']}-*.tgz"))]
    if not missing:
        return source
    # Given values first, then the chart's defaults, as Helm coalesces them.
    defaults = yaml.load((source / "values.yaml").read_text(), Loader=_Loader) or {}
    enabled = [d["name"] for d in missing
               if _enabled(values, d.get("condition") or "", _enabled(defaults, d.get("condition") or "", True))]
    if enabled:
        raise HelmError(f"{source.name}: dependencies {enabled} are enabled but not in {source / 'charts'}")
    key = (source, tuple(sorted(d["name"] for d in missing)))
    if key not in _WITHOUT:
        copy = Path(tempfile.mkdtemp(prefix=f"qhub-{source.name}-")) / source.name
        atexit.register(shutil.rmtree, copy.parent, True)
        shutil.copytree(source, copy)
        chart["dependencies"] = [d for d in dependencies if d not in missing]
        (copy / "Chart.yaml").write_text(yaml.safe_dump(chart, sort_keys=False))
        _WITHOUT[key] = copy
    return _WITHOUT[key]


def render(chart: str, version: str, release_name: str, namespace: str, values: dict[str, Any],
           kube_version: str, *, include_crds: bool = True, charts: Path | None = None) -> list[dict[str, Any]]:
    """The objects `helm template` renders, in its order (CRDs of the chart's crds/ first)."""
    if not HELM.is_file():
        raise HelmError(f"{HELM} is missing: run scripts/bootstrap --dev")
    source = chart_source(chart, version, charts)
    command = [
        str(HELM), "template", release_name, str(_without_disabled_dependencies(source, values)),
        "--namespace", namespace, "--kube-version", f"{kube_version}.0" if kube_version.count(".") == 1 else kube_version,
        "--values", "-",
    ]
    if include_crds:
        command.append("--include-crds")
    # The newline matters: helm 4.1.4 reads a values input of exactly 4096 bytes (or any multiple)
    # as empty, silently (the aws.happy.gpu plan's jupyterhub values once were 4096 bytes long).
    given = json.dumps(values, sort_keys=True) + "\n"

    def template() -> list[dict[str, Any]]:
        done = subprocess.run(command, input=given, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HelmError(f"helm template {chart} {version} ({release_name}) failed:\n{done.stderr.strip()}")
        return [doc for doc in yaml.load_all(done.stdout, Loader=_Loader) if doc]

    # The same command with the same values renders the same objects: once per test run.
    key = [str(source), *command[2:3], *command[4:]]  # the source, not a process's copy of it
    return shared("helm-template:" + json.dumps(key) + given, template)


def render_release(release: PlannedResource, kube_version: str, charts: Path | None = None) -> list[dict[str, Any]]:
    """One planned release, rendered with its own inputs."""
    inputs = release.inputs
    return render(
        inputs["chart"], inputs["version"], inputs["name"], inputs["namespace"], inputs.get("values") or {},
        kube_version, include_crds=not inputs.get("skipCrds", False), charts=charts,
    )


EXTENSIONS_TYPE = "qhub:platform:Extensions"


# Charts the platform installs whose sources are not in ../shared/charts, so helm cannot render
# them offline: monitoring's exporters (kube-prometheus-stack's folder holds only its `crds`
# subchart). The tests stop at those releases' values (tests/test_monitoring_values.py).
UNRENDERED_CHARTS = frozenset({versions.KUBE_STATE_METRICS_CHART.name, versions.NODE_EXPORTER_CHART.name})


def releases(plan: Plan) -> list[PlannedResource]:
    """The plan's releases of the charts in ../shared/charts: all but the admin's `helm_extensions`
    and UNRENDERED_CHARTS. The extensions' charts are whatever the admin names and are not in the
    shared folder, so helm cannot render them offline: the tests stop at those releases' inputs
    (tests/test_extensions.py)."""
    extensions = {r.urn for r in plan.of_type(EXTENSIONS_TYPE)}
    return [r for r in plan.of_type(RELEASE_TYPE) if r.parent not in extensions and r.inputs["chart"] not in UNRENDERED_CHARTS]


def unrendered_releases(plan: Plan) -> list[PlannedResource]:
    """The plan's releases of UNRENDERED_CHARTS."""
    return [r for r in plan.of_type(RELEASE_TYPE) if r.inputs["chart"] in UNRENDERED_CHARTS]


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
