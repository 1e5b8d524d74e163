"""The cloud and DNS modules type-check against the provider SDKs' hints (basedpyright, pyrightconfig.json).

The SDKs type every argument, so a misspelled or mistyped argument fails here, before any preview.
One basedpyright run checks qhub/clouds, qhub/dns and a probe with a known mistake (proving the check bites);
it costs a minute or more of CPU, because the SDKs' generated modules are very large, so it runs in the
background from the start of the test run (tests/support/typecheck.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import typecheck

pytestmark = pytest.mark.typecheck


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return typecheck.report()


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
