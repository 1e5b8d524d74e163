"""checkov, the infrastructure scanner, on every Kubernetes object QHub creates itself.

Every fixture plan's own objects (not the charts', which their publishers answer for) are
written as manifests, one file per plan, and scanned in one checkov run (it takes seconds to
start). Any failed check outside ALLOWED fails the test. The whole report is kept in
`tmp/checkov-report.json` (git-ignored; QHUB_CHECKOV_REPORT names another file) and its
counts are printed.

checkov runs offline: no download of Prisma Cloud's policy metadata (`--skip-download`,
BC_SKIP_MAPPING) and no check for a newer release (CKV_SKIP_PACKAGE_UPDATE_CHECK).
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, all_plans
from tests.support.api_schemas import qhub_objects
from tests.support.session_cache import shared

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
REPORT = Path(os.environ.get("QHUB_CHECKOV_REPORT", ROOT / "tmp" / "checkov-report.json"))
PLANS = all_plans()

# Workloads with a privileged container, each for a reason given where it is defined:
# conda-store's and the shared drive's NFS servers (the kernel's NFS server).
PRIVILEGED = frozenset({"Deployment/conda-store", "Deployment/qhub-nfs-server"})
CONDA_STORE = frozenset({"Deployment/conda-store"})
# QHub's image pullers, one per node group (qhub/values/image_puller.py): fnmatch patterns.
IMAGE_PULLERS = frozenset({"DaemonSet/dask-images-*", "DaemonSet/jupyterlab-images-*"})
ALL = None

# check id -> (the objects it may fail for, or ALL; why that is accepted)
ALLOWED: dict[str, tuple[frozenset[str] | None, str]] = {
    "CKV_K8S_43": (ALL, "images are pinned by tag in qhub/versions.py, by design, not by digest"),
    "CKV_K8S_15": (ALL, "a pinned tag does not move, so IfNotPresent runs what Always would pull"),
    "CKV_K8S_11": (ALL, "no CPU limits: they throttle bursts (CFS quota) and isolate nothing requests do not"),
    "CKV_K8S_22": (ALL, "the images write into their own file systems (conda's package cache, exportfs's "
                        "run files); not verified read-only without running them"),
    "CKV_K8S_40": (ALL, "containers run as their images' own users (conda-store's and ssh's are 1000), which own the "
                        "images' files; the privileged ones as root"),
    "CKV_K8S_16": (PRIVILEGED, "privileged containers, see PRIVILEGED"),
    "CKV_K8S_20": (PRIVILEGED, "Kubernetes refuses allowPrivilegeEscalation: false on a privileged container"),
    "CKV_K8S_23": (PRIVILEGED, "the privileged containers run as root"),
    "CKV_K8S_28": (PRIVILEGED, "a privileged container has every capability, NET_RAW included"),
    "CKV_K8S_37": (PRIVILEGED, "a privileged container has every capability"),
    "CKV_K8S_35": (CONDA_STORE, "secrets reach conda-store by secretKeyRef, as DESIGN.md has them reach pods"),
    "CKV_K8S_8": (CONDA_STORE | IMAGE_PULLERS, "conda-store's worker serves no port to probe (the server is probed); "
                                               "the image pullers' pause container serves nothing and has no binary to exec"),
    "CKV_K8S_9": (CONDA_STORE | IMAGE_PULLERS, "conda-store's worker serves no port to probe (the server is probed); "
                                               "the image pullers' pause container serves nothing and has no binary to exec"),
}


def _allows(objects: frozenset[str], target: str) -> bool:
    return any(fnmatch.fnmatchcase(target, name) for name in objects)


def _failed(report: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(plan label, check id, Kind/name) of each failed check."""
    for failure in report["results"]["failed_checks"]:
        kind, *_, name = failure["resource"].split(".")
        yield Path(failure["file_path"]).stem, failure["check_id"], f"{kind}/{name}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: run scripts/bootstrap --dev")
    # One scan per test run, whichever pytest process asks first.
    return shared("checkov-report", lambda: _scan(tmp_path_factory))


def _scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    manifests = tmp_path_factory.mktemp("checkov-manifests")
    for label, plan in PLANS.items():
        documents = [o.manifest for o in qhub_objects(plan())]
        (manifests / f"{label}.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE",
           "CKV_CACHE_DIR": str(tmp_path_factory.mktemp("checkov-cache"))}
    done = subprocess.run(
        [str(CHECKOV), "--directory", str(manifests), "--framework", "kubernetes", "--skip-download",
         "--output", "json", "--compact"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    # checkov exits 1 when a check fails; what failed is judged below.
    assert done.returncode in (0, 1) and done.stdout.strip(), done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"\ncheckov {result['summary']['checkov_version']}: {result['summary']} (report: {REPORT})")
    return result


def test_checkov_scanned_every_plan(report: dict[str, Any]) -> None:
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    scanned = {Path(check["file_path"]).stem for check in report["results"]["passed_checks"]}
    assert scanned == set(PLANS)


@pytest.mark.parametrize("label", list(PLANS))
def test_no_check_fails_outside_the_allowlist(report: dict[str, Any], label: str) -> None:
    failures = []
    for plan, check, target in _failed(report):
        objects, _ = ALLOWED.get(check, (frozenset(), ""))
        if plan == label and objects is not ALL and not _allows(objects, target):
            failures.append(f"{check} {target}")
    assert not failures, f"checkov failures in {label} outside the allowlist:\n" + "\n".join(sorted(set(failures)))


def test_allowlist_has_no_stale_entry(report: dict[str, Any]) -> None:
    """Every allowance is used (by the objects it names), so the list stays as short as the need."""
    seen: dict[str, set[str]] = {}
    for _, check, target in _failed(report):
        seen.setdefault(check, set()).add(target)
    for check, (objects, why) in ALLOWED.items():
        assert check in seen, f"{check} ({why}) fails nowhere: remove it from ALLOWED"
        if objects is not ALL:
            unused = {name for name in objects if not any(fnmatch.fnmatchcase(target, name) for target in seen[check])}
            assert not unused, f"{check} no longer fails for {sorted(unused)}"
