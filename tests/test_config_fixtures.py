"""Every fixture under tests/fixtures/configs is validated and its outcome checked.

A fixture's name says its outcome (`<provider>.happy*.yaml` is valid without warnings worth
failing on, `*.error.*.yaml` is invalid, `*.warning.*.yaml` is valid with a warning); each
`# expect: ...` line at its top must appear in what `qhub validate` prints.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qhub.cli.main import main

CONFIGS = sorted((Path(__file__).parent / "fixtures" / "configs").glob("*.yaml"))


def _expected(path: Path) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^# expect: (.+)$", path.read_text(), re.MULTILINE)]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_fixture_outcome(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--config", str(path)])
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "Traceback" not in text
    if ".error." in path.name:
        assert code == 1, text
        assert "ok:" not in printed.out
        expected = _expected(path)
        assert expected, f"{path.name} names no expected message"
    else:
        assert code == 0, text
        expected = _expected(path)
    for message in expected:
        assert message in text, f"{path.name}: {message!r} not in:\n{text}"
    if ".warning." in path.name:
        assert "warning:" in printed.err


def test_error_fixture_exists_for_every_rule() -> None:
    """The rules of the config model each have a fixture named for them."""
    names = {p.name for p in CONFIGS}
    for rule in (
        "provider-block-missing", "other-provider-block", "min-nodes-negative", "max-below-min",
        "max-nodes-zero", "required-group-missing", "instance-of-other-cloud", "zone-outside-region",
        "uid-not-positive", "gid-not-positive", "uid-used-twice", "gid-used-twice",
        "primary-group-undefined", "secondary-group-undefined", "profile-unknown-user",
        "profile-unknown-group", "two-default-profiles", "dask-cores-over-limit",
        "dask-memory-over-limit", "storage-not-quantity", "domain-not-dns", "project-name-invalid",
        "dependencies-not-list", "many-at-once", "unknown-key",
        "domain-outside-zone", "dns-zone-missing", "dns-apex-cname", "cloud-dns-project-missing",
        "azure-dns-resource-group-missing", "extension-version-range", "extension-repository-not-https",
        "extension-name-of-platform", "extension-name-twice", "extension-secret-in-overrides",
        "extension-route-reserved-path", "extension-namespace-reserved",
        "override-owned-key", "override-not-in-chart", "override-secret", "warm-servers-gpu-default",
    ):
        assert any(f".error.{rule}." in name for name in names), rule
