"""The basedpyright run of tests/test_typecheck.py, started as soon as a test run knows it needs it.

It takes a minute or more of CPU (the SDKs' generated modules are very large), so it runs in
the background beside the other tests instead of after them: tests/conftest.py calls `start()`
once collection is done and the type-check tests are among the tests to run, and the tests
call `report()`, which waits for it. Once per test run: the first pytest process to start it
wins (it creates a directory in the run's, tests/support/session_cache.py), the others
read its report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.session_cache import session_dir

ROOT = Path(__file__).resolve().parents[2]
BASEDPYRIGHT = Path(sys.executable).with_name("basedpyright")
TARGETS = ("qhub/clouds", "qhub/dns")
# A call with a known mistake: the check must report it, or it checks nothing.
PROBE = (
    "import pulumi_aws as aws\n"
    "aws.ecr.Repository('r', image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_pus=True))\n"
)
# basedpyright's node heap: with its default (about 4 GB) it empties its type cache over and
# over on these SDKs and takes a third longer.
NODE_OPTIONS = "--max-old-space-size=8192"
TIMEOUT_SECONDS = 900


class TypecheckError(AssertionError):
    """basedpyright did not run, or gave no report."""


def _paths() -> tuple[Path, Path, Path]:
    directory = session_dir() / "typecheck"
    return directory, directory / "report.json", directory / "probe.py"


def start() -> None:
    """Start basedpyright in the background, unless a process of this test run already did."""
    if not BASEDPYRIGHT.exists():
        return  # report() says what is missing
    directory, report, probe = _paths()
    try:
        directory.mkdir()
    except FileExistsError:
        return
    probe.write_text(PROBE)
    command = [str(BASEDPYRIGHT), "--outputjson", "--project", str(ROOT / "pyrightconfig.json"), *TARGETS, str(probe)]
    # The report appears whole or not at all; basedpyright exits 1 when it finds errors (the probe's).
    script = '"$@" > "$QHUB_REPORT.part"; mv "$QHUB_REPORT.part" "$QHUB_REPORT"'
    subprocess.Popen(["sh", "-c", script, "sh", *command], cwd=ROOT, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=(directory / "stderr").open("w"), start_new_session=True,
                     env={**os.environ, "NODE_OPTIONS": NODE_OPTIONS, "QHUB_REPORT": str(report)})


def report() -> dict[str, Any]:
    """basedpyright's JSON report, with the probe's path under "probe"."""
    if not BASEDPYRIGHT.exists():
        raise TypecheckError(f"basedpyright is not installed in the venv ({BASEDPYRIGHT}); see requirements-dev.txt")
    start()
    directory, path, probe = _paths()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not path.exists():
        if time.monotonic() > deadline:
            raise TypecheckError(f"basedpyright gave no report in {TIMEOUT_SECONDS} s: {(directory / 'stderr').read_text()[-2000:]}")
        time.sleep(0.5)
    text = path.read_text()
    if not text.strip():
        raise TypecheckError(f"basedpyright failed: {(directory / 'stderr').read_text()[-2000:]}")
    return {"probe": str(probe), **json.loads(text)}
