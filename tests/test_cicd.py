"""qhub.cicd: the workflows a project gets, and the warnings when they and the stacks disagree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from qhub.cicd import (
    DEPLOY_WORKFLOW, PULL_REQUEST_WORKFLOW, check_workflows, expected_workflows, load_workflow, read_workflows, stack_facts,
)
from qhub.cli.main import main
from tests.conftest import ROOT


def _project(tmp_path: Path, stacks: dict[str, dict[str, object] | str], *, workflows: bool = True) -> Path:
    """A project with the given stacks (name -> ci_cd) copied from stacks/staging.yaml."""
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    (tmp_path / "stacks").mkdir()
    for name, ci in stacks.items():
        (tmp_path / "stacks" / f"{name}.yaml").write_text(yaml.safe_dump({**document, "ci_cd": ci}))
        (tmp_path / f"Pulumi.{name}.yaml").write_text(f"config:\n  qhub:configFile: stacks/{name}.yaml\n")
    if workflows:
        _write(tmp_path, expected_workflows(tmp_path))
    return tmp_path


def _set_ci(project: Path, stack: str, ci: dict[str, object] | str) -> None:
    path = project / "stacks" / f"{stack}.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "ci_cd": ci}))


def _write(project: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)


def _messages(project: Path) -> list[str]:
    found = check_workflows(project, sorted(p.name[7:-5] for p in project.glob("Pulumi.*.yaml")))
    assert all(issue.severity == "warning" for issue in found)
    return [str(issue) for issue in found]


def test_the_repository_has_no_warnings() -> None:
    assert check_workflows(ROOT, ["prod", "staging"]) == []


def test_generated_workflows_have_no_warnings(tmp_path: Path) -> None:
    project = _project(tmp_path, {"dev": "github-actions", "qa": "github-actions", "prod": "github-actions"})
    assert _messages(project) == []
    deploy = load_workflow((project / DEPLOY_WORKFLOW).read_text())["jobs"]
    # Every non-production stack is deployed and checked before production.
    assert deploy["deploy-prod"]["needs"] == ["smoke-dev", "smoke-qa"]
    assert "needs" not in deploy["deploy-dev"] and "needs" not in deploy["deploy-qa"]


def test_a_stack_without_workflow_jobs_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": "github-actions"})
    (project / "Pulumi.qa.yaml").write_text("config:\n  qhub:configFile: stacks/staging.yaml\n")
    messages = _messages(project)
    assert any(m.startswith("stack qa: no workflow runs `pulumi preview`") for m in messages)
    assert any(m.startswith("stack qa: no workflow runs `pulumi up`") for m in messages)


def test_a_workflow_naming_a_missing_stack_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": "github-actions", "prod": "github-actions"})
    (project / "Pulumi.prod.yaml").unlink()
    messages = _messages(project)
    assert f"{DEPLOY_WORKFLOW}: deploys stack 'prod', which does not exist (no Pulumi.prod.yaml)" in messages
    assert f"{PULL_REQUEST_WORKFLOW}: previews stack 'prod', which does not exist (no Pulumi.prod.yaml)" in messages


def test_workflows_with_ci_cd_none_are_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": "github-actions"})
    _set_ci(project, "staging", "none")
    messages = _messages(project)
    assert any("whose ci_cd is none" in m and m.startswith(DEPLOY_WORKFLOW) for m in messages)
    assert expected_workflows(project) == {}


def test_ci_cd_none_without_workflows_is_quiet(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": "none"}, workflows=False)
    assert _messages(project) == []
    assert expected_workflows(project) == {}


def test_a_deploy_branch_other_than_ci_cd_branch_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": {"type": "github-actions", "branch": "main"}})
    _set_ci(project, "staging", {"type": "github-actions", "branch": "release"})
    assert _messages(project) == [
        f"{DEPLOY_WORKFLOW}: deploys stack 'staging' on pushes to main, but its ci_cd.branch is 'release'"
    ]
    # Regenerated, the workflows follow the stack's branch.
    _write(project, expected_workflows(project))
    assert _messages(project) == []
    assert read_workflows(project).deploy_branches == {DEPLOY_WORKFLOW: ["release"]}


def test_hand_written_workflows_are_read_too(tmp_path: Path) -> None:
    project = _project(tmp_path, {"staging": "github-actions"}, workflows=False)
    _write(project, {".github/workflows/infra.yaml": (
        "on:\n  push:\n    branches: [main]\n  pull_request: {}\njobs:\n"
        "  preview:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: pulumi/actions@v7\n        with: {command: preview, stack-name: acme/staging}\n"
        "  up:\n    runs-on: ubuntu-24.04\n    strategy:\n      matrix:\n        include: [{s: staging}]\n    steps:\n"
        "      - uses: pulumi/actions@v7\n        with: {command: up, stack-name: '${{ matrix.s }}'}\n"
    )})
    assert _messages(project) == []


def test_stack_facts_come_from_the_qhub_file() -> None:
    facts = stack_facts("staging", ROOT)
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    assert facts["provider"] == "aws"
    assert facts["url"] == f"https://{document['domain']}"
    assert facts["region"] == document["amazon_web_services"]["region"]
    assert facts["insecure_tls"] in ("true", "false")


def test_validate_prints_the_workflow_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, {"staging": "github-actions"}, workflows=False)
    assert main(["validate", "--project-dir", str(project)]) == 0
    assert "stack staging: no workflow runs `pulumi preview`" in capsys.readouterr().err
    assert main(["validate", "--strict", "--project-dir", str(project)]) == 1


def test_init_writes_the_workflows_for_github_actions(tmp_path: Path) -> None:
    pytest.importorskip("qhub.init_templates", reason="qhub init's starter configs are not in this checkout yet")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    args = ["init", "gcp", "--stack", "dev", "--project-name", "lab", "--domain", "lab.example.org",
            "--repository", "example-lab/lab", "--project-dir", str(tmp_path)]
    assert main(args) == 0
    assert (tmp_path / PULL_REQUEST_WORKFLOW).read_text() == expected_workflows(tmp_path)[PULL_REQUEST_WORKFLOW]
    assert stack_facts("dev", tmp_path)["provider"] == "gcp"
    assert check_workflows(tmp_path, ["dev"]) == []


def test_production_stacks_are_the_config_models() -> None:
    from qhub.cicd.settings import PRODUCTION_STACKS
    from qhub.config.model import PRODUCTION_STACKS as MODEL_STACKS

    assert PRODUCTION_STACKS == MODEL_STACKS


def test_the_production_key_decides_which_stacks_deploy_last(tmp_path: Path) -> None:
    from qhub.cicd.stacks import stack_ci

    project = _project(tmp_path, {"live": "github-actions", "prod": "github-actions", "test": "github-actions"})
    for name, production in (("live", True), ("prod", False)):
        path = project / "stacks" / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "production": production}))
    assert [stack_ci(project, s).production for s in ("live", "prod", "test")] == [True, False, False]
    _write(project, expected_workflows(project))
    jobs = load_workflow((project / DEPLOY_WORKFLOW).read_text())["jobs"]
    assert jobs["deploy-live"]["environment"]["name"] == "production"
    assert set(jobs["deploy-live"]["needs"]) == {"smoke-prod", "smoke-test"}
    assert jobs["deploy-prod"]["environment"]["name"] == "prod" and "needs" not in jobs["deploy-prod"]
