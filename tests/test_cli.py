"""The qhub command: exit codes, init, plan output, schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qhub.cli.main import main
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "configs"


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qhub", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_help_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("init", "validate", "plan", "schema"):
        assert command in result.stdout


def test_usage_errors_exit_2() -> None:
    assert run_cli("validate", "--stack", "a", "--config", "b").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("init", "mars").returncode == 2


def test_validate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(FIXTURES / "aws.happy.yaml")]) == 0
    assert main(["validate", "--config", str(FIXTURES / "aws.error.max-below-min.yaml")]) == 1
    assert main(["validate", "--config", str(FIXTURES / "does-not-exist.yaml")]) == 1
    assert "file not found" in capsys.readouterr().err


def test_validate_strict_fails_on_warnings() -> None:
    path = str(FIXTURES / "aws.warning.old-kubernetes.yaml")
    assert main(["validate", "--config", path]) == 0
    assert main(["validate", "--strict", "--config", path]) == 1


def test_validate_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "qa"]) == 1
    assert "no such stack; stacks here: prod, staging" in capsys.readouterr().err


def test_validate_all_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "stacks/staging.yaml is valid" in out and "stacks/prod.yaml is valid" in out


def test_plan_of_invalid_config_is_an_error_without_traceback() -> None:
    result = run_cli("plan", "--config", str(FIXTURES / "aws.error.many-at-once.yaml"), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "max_nodes (2) is below min_nodes (4)" in result.stderr


def test_plan_needs_one_target() -> None:
    assert run_cli("plan").returncode == 2


@pytest.mark.parametrize("provider", ["aws", "gcp", "do", "azure", "existing"])
def test_init_writes_a_valid_stack_and_refuses_to_overwrite(tmp_path: Path, provider: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    args = ["init", provider, "--stack", "qa", "--project-name", "lab", "--domain", "lab.example.org",
            "--project-dir", str(tmp_path), "--ci", "none"]
    assert main(args) == 0, capsys.readouterr().err
    qhub_file = tmp_path / "stacks" / "qa.yaml"
    stack_file = yaml.safe_load((tmp_path / "Pulumi.qa.yaml").read_text())
    assert stack_file == {"config": {"qhub:configFile": "stacks/qa.yaml"}}
    assert qhub_file.read_text().startswith("# yaml-language-server: $schema=../qhub.schema.json")
    assert (tmp_path / "qhub.schema.json").exists()
    assert main(["validate", "--stack", "qa", "--project-dir", str(tmp_path)]) == 0
    document = yaml.safe_load(qhub_file.read_text())
    if provider not in ("existing",):
        block = next(v for k, v in document.items() if isinstance(v, dict) and "node_groups" in v)
        # Idle cost: the user and worker groups scale from zero where the cloud allows it.
        assert block["node_groups"]["worker"]["min_nodes"] == 0
    capsys.readouterr()
    assert main(args) == 1 and "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_init_without_flags_and_without_terminal_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "qhub", "init", "aws", "--project-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    assert result.returncode == 2 and "--project-name" in result.stderr


def test_init_refuses_a_bad_project_name(tmp_path: Path) -> None:
    result = run_cli("init", "aws", "--project-name", "Bad_Name", "--domain", "lab.example.org",
                     "--project-dir", str(tmp_path), "--ci", "none")
    assert result.returncode == 1 and "project_name" in result.stderr
    assert not (tmp_path / "stacks").exists()


def test_schema_is_json_schema() -> None:
    result = run_cli("schema")
    document = json.loads(result.stdout)
    assert document["$schema"].startswith("https://json-schema.org/")
    assert "shared_filesystem" in json.dumps(document)


def test_a_file_that_cannot_be_written_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "qhub.schema.json"
    done = subprocess.run([sys.executable, "-m", "qhub", "schema", "-o", str(target)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr == f"qhub schema: {target}: No such file or directory\n"


def test_validate_caches_verdicts_without_loading_the_model(tmp_path: Path) -> None:
    """An unchanged file is answered from the cache, with the same output and no pydantic."""
    config = tmp_path / "lab.yaml"
    # A comment makes the bytes new: verdicts are keyed by content, and the fixture itself may
    # have been validated earlier in the run.
    config.write_text((FIXTURES / "aws.warning.old-kubernetes.yaml").read_text() + f"# {tmp_path}\n")
    env_code = (
        "import sys; from qhub.cli.main import main\n"
        "code = main(['validate', '--config', sys.argv[1]])\n"
        "print('pydantic' in sys.modules, code)\n"
    )
    first = subprocess.run([sys.executable, "-c", env_code, str(config)], cwd=ROOT, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", env_code, str(config)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert first.stdout.splitlines()[-1] == "True 0"
    assert second.stdout.splitlines()[-1] == "False 0"
    assert first.stderr == second.stderr and "1.14 is not in standard support" in second.stderr
    # An edit is a new verdict.
    config.write_text(config.read_text().replace("max_nodes: 5", "max_nodes: -5"))
    third = subprocess.run([sys.executable, "-m", "qhub", "validate", "--config", str(config)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert third.returncode == 1 and "max_nodes" in third.stderr


def test_validate_without_cache_gives_the_same_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "aws.error.many-at-once.yaml")
    assert main(["validate", "--config", path]) == 1
    cached = capsys.readouterr().err
    assert main(["validate", "--no-cache", "--config", path]) == 1
    assert capsys.readouterr().err == cached
