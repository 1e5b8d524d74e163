"""The cloud and DNS modules type-check against the provider SDKs' hints (basedpyright, pyrightconfig.json).

The SDKs type every argument, so a misspelled or mistyped argument fails here, before any preview.
One basedpyright run checks qhub/clouds, qhub/dns and a probe with a known mistake (proving the check bites);
it costs most of this suite's time, because the SDKs' generated modules are very large.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.typecheck

ROOT = Path(__file__).resolve().parents[1]
BASEDPYRIGHT = Path(sys.executable).with_name("basedpyright")
PROBE = (
    "import pulumi_aws as aws\n"
    "aws.ecr.Repository('r', image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_pus=True))\n"
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not BASEDPYRIGHT.exists():
        pytest.fail(f"basedpyright is not installed in the venv ({BASEDPYRIGHT}); see requirements-dev.txt")
    probe = tmp_path_factory.mktemp("typecheck") / "probe.py"
    probe.write_text(PROBE)
    result = subprocess.run(
        [str(BASEDPYRIGHT), "--outputjson", "--project", str(ROOT / "pyrightconfig.json"), "qhub/clouds", "qhub/dns", str(probe)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    return {"probe": str(probe), **json.loads(result.stdout)}


def _errors(report: dict[str, Any], *, probe: bool) -> list[str]:
    return [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error" and (d["file"] == report["probe"]) == probe
    ]


def test_clouds_type_check(report: dict[str, Any]) -> None:
    assert report["summary"]["filesAnalyzed"] > 1
    errors = _errors(report, probe=False)
    assert not errors, "\n".join(errors)


def test_a_misspelled_sdk_argument_is_caught(report: dict[str, Any]) -> None:
    errors = _errors(report, probe=True)
    assert any("scan_on_pus" in error for error in errors), errors
