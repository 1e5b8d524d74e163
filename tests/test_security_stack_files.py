"""Stack files carry no secret that belongs to no one.

A ciphertext (`secure:`) or an `encryptionsalt` committed with the example project was made
with a passphrase or key nobody else has: a user's first `pulumi preview` with their own
secrets provider fails to decrypt it. The committed stack files and the ones `qhub init`
writes hold no secret and say which `pulumi config set --secret` to run; a plan of a stack
without the secret warns, as a preview does.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from qhub.cli.main import main
from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import plan_program
from tests.conftest import ROOT, STACKS

SET_SECRET = "pulumi config set --secret qhub:oauthClientSecret"


def _secure_values(node: object) -> list[object]:
    if isinstance(node, dict):
        return [node] if "secure" in node else [v for item in node.values() for v in _secure_values(item)]
    if isinstance(node, list):
        return [v for item in node for v in _secure_values(item)]
    return []


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stack_files_hold_no_ciphertext_and_say_how_to_set_the_secret(stack: str) -> None:
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
    document = yaml.safe_load(text)
    assert "encryptionsalt" not in document and not _secure_values(document)
    assert document["config"] == {"qhub:configFile": f"stacks/{stack}.yaml"}
    assert SET_SECRET in text


@pytest.mark.parametrize("auth, command", [("GitHub", SET_SECRET), ("password", "pulumi config set --secret qhub:hubPassword")])
def test_qhub_init_writes_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str], auth: str, command: str) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    assert main(["init", "aws", "--stack", "qa", "--project-name", "lab", "--domain", "lab.example.org",
                 "--auth", auth, "--project-dir", str(tmp_path), "--ci", "none"]) == 0, capsys.readouterr().err
    text = (tmp_path / "Pulumi.qa.yaml").read_text()
    document = yaml.safe_load(text)
    assert "encryptionsalt" not in document and not _secure_values(document)
    assert command in text


def test_a_preview_without_the_secret_warns(caplog: pytest.LogCaptureFixture) -> None:
    """The offline plan runs the program as a preview does: the missing secret is a warning
    that names the command, and the plan completes."""
    plan = plan_program(stack_config_file("staging", ROOT), "staging", "aws", extra_config=stack_settings("staging", ROOT))
    assert plan.resources
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"needs the OAuth client secret: {SET_SECRET}" in message for message in warnings), warnings
