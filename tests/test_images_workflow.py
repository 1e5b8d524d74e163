"""The images workflow and the push identity every provider creates for it.

The workflow: pull requests build and never push, pushes come only from the deploy branch,
OIDC only where the cloud has it, the docker actions at the pinned releases; its own shell
steps run with bash on each provider's real (offline-planned) `image_push` output. The
identity: trusted for the repository's deploy branch alone, allowed to push to this stack's
repositories and nothing else, on AWS, GCP and Azure; DigitalOcean has only a token.
(actionlint and the commit pins of every workflow are checked in tests/test_workflows.py.)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.cicd import ACTIONS, IMAGES_WORKFLOW, check_workflows, expected_workflows, load_workflow
from qhub.cicd.images import DIGITALOCEAN_REGISTRY_SECRET
from qhub.images import CUSTOM_IMAGES, GITHUB_OIDC_ISSUER, image_files, image_variable
from qhub.offline.engine import Plan
from tests.conftest import FIXTURES, ROOT, plan_config, plan_stack

SUBJECT = "repo:{repository}:ref:refs/heads/main"
ISSUER_HOST = GITHUB_OIDC_ISSUER.removeprefix("https://")


def _workflow() -> dict[str, Any]:
    return load_workflow((ROOT / IMAGES_WORKFLOW).read_text())


def _jobs() -> dict[str, Any]:
    return _workflow()["jobs"]


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("name") == name)


def _builds(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action@")]


# --- the workflow's shape ------------------------------------------------------------------------


def test_pull_requests_touching_image_build_every_image_and_push_nothing() -> None:
    workflow = _workflow()
    assert set(workflow["on"]) == {"pull_request", "push", "workflow_dispatch"}  # never pull_request_target
    assert "image/**" in workflow["on"]["pull_request"]["paths"]
    build = _jobs()["build"]
    assert build["if"] == "github.event_name == 'pull_request'"
    assert build["strategy"]["matrix"]["image"] == list(CUSTOM_IMAGES)
    assert build["permissions"] == {"contents": "read"}  # what a fork gets: no id-token, no write
    assert [s["with"]["push"] for s in _builds(build)] == [False]
    text = json.dumps(build)
    assert "secrets." not in text and "vars." not in text
    assert not any("login" in str(s.get("uses", "")) + s.get("name", "").lower() for s in build["steps"])


def test_pushes_come_only_from_the_deploy_branch() -> None:
    workflow = _workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    for job_id, job in _jobs().items():
        if any(s["with"]["push"] is not False for s in _builds(job)):
            # A workflow_dispatch from another branch, or a pull request, never reaches a push.
            assert job["if"] == "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'", job_id


def test_only_the_push_job_asks_for_an_oidc_token() -> None:
    jobs = _jobs()
    assert _workflow()["permissions"] == {}
    assert jobs["push"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert [job_id for job_id, job in jobs.items() if job["permissions"].get("id-token")] == ["push"]


def test_every_stack_and_image_is_pushed_with_its_own_identity() -> None:
    matrix = _jobs()["push"]["strategy"]["matrix"]
    assert matrix["stack"] == ["prod", "staging"] and matrix["image"] == list(CUSTOM_IMAGES)
    assert matrix["include"] == [{"stack": s, "variable": image_variable(s), "push": f"${{{{ vars.{image_variable(s)} }}}}"}
                                 for s in ("prod", "staging")]


def test_the_docker_actions_are_the_pinned_releases() -> None:
    assert ACTIONS["docker/setup-buildx-action"][1].startswith("v4.")
    assert ACTIONS["docker/build-push-action"][1].startswith("v7.")
    assert ACTIONS["docker/metadata-action"][1].startswith("v6.")
    used = {s["uses"].split("@")[0] for job in _jobs().values() for s in job["steps"] if "uses" in s}
    assert {"docker/setup-buildx-action", "docker/build-push-action", "docker/metadata-action"} <= used


def test_pushes_are_tagged_with_the_commit_and_the_branch_and_cached() -> None:
    push = _jobs()["push"]
    tags = _step(push, "Tags")["with"]["tags"].split()
    assert tags == ["type=sha,prefix=sha-,format=short", "type=ref,event=branch"]
    (build,) = _builds(push)
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    for job in _jobs().values():
        for step in _builds(job):
            assert step["with"]["context"] == "image" and step["with"]["file"] == "image/${{ matrix.image }}/Dockerfile"
            assert step["with"]["cache-from"] == "type=gha,scope=${{ matrix.image }}"
            assert step["with"]["cache-to"] == "type=gha,mode=max,scope=${{ matrix.image }}"


def test_logins_are_oidc_and_only_digitalocean_uses_a_token() -> None:
    push = _jobs()["push"]
    by_provider = {}
    for step in push["steps"]:
        condition = step.get("if", "")
        if condition.startswith("steps.push.outputs.provider == "):
            by_provider.setdefault(condition.split("'")[1], []).append(step)
    assert set(by_provider) == {"aws", "gcp", "azure", "do"}
    aws_login, ecr = by_provider["aws"]
    assert aws_login["uses"].startswith("aws-actions/configure-aws-credentials@")
    assert aws_login["with"]["role-to-assume"] == "${{ steps.push.outputs.role_arn }}"
    assert "aws ecr get-login-password" in ecr["run"] and "--password-stdin" in ecr["run"]
    gcp_login, registry = by_provider["gcp"]
    assert gcp_login["uses"].startswith("google-github-actions/auth@") and gcp_login["with"]["token_format"] == "access_token"
    assert "credentials_json" not in gcp_login["with"]
    assert "--username oauth2accesstoken --password-stdin" in registry["run"]
    azure_login, acr = by_provider["azure"]
    assert azure_login["uses"].startswith("azure/login@") and "creds" not in azure_login["with"]
    assert acr["run"].startswith("az acr login --name")
    (do_login,) = by_provider["do"]
    secrets = {s for step in push["steps"] for s in json.dumps(step).split("secrets.")[1:]}
    assert [s.split()[0] for s in secrets] == [DIGITALOCEAN_REGISTRY_SECRET]
    assert f"secrets.{DIGITALOCEAN_REGISTRY_SECRET}" in do_login["env"]["DIGITALOCEAN_TOKEN"]


# --- the workflow's own scripts, run by bash -------------------------------------------------------


def _run(step: dict[str, Any], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # As GitHub runs a `run:` step: bash with -e and pipefail.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=cwd,
                          env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, check=False, timeout=30)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


PLANS = {
    "aws": lambda: plan_stack("staging"),
    "gcp": lambda: plan_config(FIXTURES / "configs" / "gcp.happy.yaml"),
    "azure": lambda: plan_config(FIXTURES / "configs" / "azure.happy.yaml"),
    "do": lambda: plan_config(FIXTURES / "configs" / "do.happy.yaml"),
}


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq (on every GitHub runner) is not installed here")
@pytest.mark.parametrize("provider", list(PLANS))
def test_the_push_identity_is_read_from_the_stacks_output(provider: str, tmp_path: Path) -> None:
    output = PLANS[provider]().outputs["image_push"]
    step = _step(_jobs()["push"], "Read the stack's push identity")
    for image in CUSTOM_IMAGES:
        found = tmp_path / f"{image}.out"
        env = {"PUSH": json.dumps(output), "STACK": "staging", "IMAGE": image, "VARIABLE": "IMAGE_PUSH_STAGING",
               "GITHUB_OUTPUT": str(found)}
        result = _run(step, env, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        values = _outputs(found)
        assert values["provider"] == provider and values["image"] == output["images"][image]
        assert values["registry"] == output["registry"] and values["image"].startswith(output["registry"] + "/")
        # Every input a login step reads is there for its provider.
        needed = {"aws": ("role_arn", "region"), "gcp": ("workload_identity_provider", "service_account"),
                  "azure": ("client_id", "tenant_id", "registry_name"), "do": ()}[provider]
        assert all(values[key] for key in needed), values


def test_a_missing_variable_fails_with_what_to_do(tmp_path: Path) -> None:
    step = _step(_jobs()["push"], "Read the stack's push identity")
    env = {"PUSH": "", "STACK": "prod", "IMAGE": "jupyterlab", "VARIABLE": "IMAGE_PUSH_PROD", "GITHUB_OUTPUT": str(tmp_path / "o")}
    result = _run(step, env, tmp_path)
    assert result.returncode == 1
    assert "::error::the variable IMAGE_PUSH_PROD is not set" in result.stdout
    assert 'gh variable set IMAGE_PUSH_PROD --body "$(pulumi stack output image_push --json -s prod)"' in result.stdout


def test_the_digitalocean_token_becomes_a_private_docker_login(tmp_path: Path) -> None:
    step = _step(_jobs()["push"], "Log in to the DigitalOcean registry (token)")
    token = "dop_v1_" + "ab" * 32  # a made-up token of DigitalOcean's shape
    result = _run(step, {"HOME": str(tmp_path), "REGISTRY": "registry.digitalocean.com", "DIGITALOCEAN_TOKEN": token}, tmp_path)
    assert result.returncode == 0, result.stderr
    config = tmp_path / ".docker" / "config.json"
    auth = json.loads(config.read_text())["auths"]["registry.digitalocean.com"]["auth"]
    assert base64.b64decode(auth).decode() == f"{token}:{token}"
    assert config.stat().st_mode & 0o077 == 0
    assert token not in result.stdout and f"::add-mask::{auth}" in result.stdout
    missing = _run(step, {"HOME": str(tmp_path), "REGISTRY": "registry.digitalocean.com", "DIGITALOCEAN_TOKEN": ""}, tmp_path)
    assert missing.returncode == 1 and DIGITALOCEAN_REGISTRY_SECRET in missing.stdout


# --- the push identity, per provider ---------------------------------------------------------------


def _only(plan: Plan, type_token: str, suffix: str = "") -> Any:
    (found,) = [r for r in plan.of_type(type_token) if r.name.endswith(suffix)]
    return found


def _repository_arn(plan: Plan, image: str) -> str:
    # The account and region of the offline engine's AWS mocks.
    name = _only(plan, "aws:ecr/repository:Repository", f"-{image}").inputs["name"]
    return f"arn:aws:ecr:us-west-2:123456789012:repository/{name}"


def test_aws_role_trusts_the_deploy_branch_only_and_pushes_to_the_stacks_repositories() -> None:
    plan = plan_stack("staging")
    role = _only(plan, "aws:iam/role:Role", "-image-push-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{ISSUER_HOST}"}
    assert statement["Condition"] == {"StringEquals": {
        f"{ISSUER_HOST}:aud": "sts.amazonaws.com",
        f"{ISSUER_HOST}:sub": SUBJECT.format(repository="example-lab/qhub-analytics"),
    }}
    policy = _only(plan, "aws:iam/rolePolicy:RolePolicy", "-image-push-ecr")
    assert policy.inputs["role"] == plan.outputs["image_push"]["role_arn"].rsplit("/", 1)[1]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    # "*" only for the login token, which ECR cannot scope; everything else on the two repositories.
    assert [s for s in statements if s["Resource"] == "*"] == [
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]
    (push,) = [s for s in statements if s["Resource"] != "*"]
    assert push["Resource"] == sorted(_repository_arn(plan, image) for image in CUSTOM_IMAGES)
    assert "ecr:PutImage" in push["Action"] and all(a.startswith("ecr:") and "*" not in a for a in push["Action"])
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") or all(
        not r.name.startswith(role.name) for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))


def test_gcp_service_account_writes_to_the_stacks_repository_only() -> None:
    plan = plan_config(FIXTURES / "configs" / "gcp.happy.yaml")
    output = plan.outputs["image_push"]
    member = f"serviceAccount:{output['service_account']}"
    writers = [r for r in plan.resources if r.inputs.get("member") == member]
    assert [(r.type, r.inputs["role"]) for r in writers] == [
        ("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "roles/artifactregistry.writer")]
    repository = _only(plan, "gcp:artifactregistry/repository:Repository")
    assert writers[0].inputs["repository"] == repository.inputs["repositoryId"]
    assert writers[0].inputs["location"] == repository.inputs["location"]
    token_user = _only(plan, "gcp:serviceaccount/iAMMember:IAMMember")
    assert token_user.inputs["role"] == "roles/iam.workloadIdentityUser"
    pool = _only(plan, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert token_user.inputs["member"].startswith("principal://iam.googleapis.com/projects/")  # one subject, no principalSet
    assert token_user.inputs["member"].endswith(
        f"/workloadIdentityPools/{pool.inputs['workloadIdentityPoolId']}/subject/" + SUBJECT.format(repository="example-lab/lab-gcp"))
    provider = _only(plan, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert provider.inputs["oidc"] == {"issuerUri": GITHUB_OIDC_ISSUER}
    assert provider.inputs["attributeCondition"] == "assertion.repository == 'example-lab/lab-gcp'"
    assert output["workload_identity_provider"].endswith(f"/providers/{provider.inputs['workloadIdentityPoolProviderId']}")


def test_azure_identity_has_acr_push_on_the_stacks_registry_only() -> None:
    plan = plan_config(FIXTURES / "configs" / "azure.happy.yaml")
    credential = _only(plan, "azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.inputs["issuer"] == GITHUB_OIDC_ISSUER
    assert credential.inputs["subject"] == SUBJECT.format(repository="example-lab/lab-azure")
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    identity = _only(plan, "azure-native:managedidentity:UserAssignedIdentity")
    assert credential.inputs["resourceName"] == identity.inputs["resourceName"]
    registry = _only(plan, "azure-native:containerregistry:Registry")
    push = _only(plan, "azure-native:authorization:RoleAssignment", "-image-push-acr-push")
    assert push.inputs["roleDefinitionId"].endswith("/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec")  # AcrPush
    assert push.inputs["scope"].endswith(f"/providers/Microsoft.ContainerRegistry/registries/{registry.inputs['registryName']}")
    # The identity holds no other role anywhere.
    others = [r for r in plan.of_type("azure-native:authorization:RoleAssignment")
              if r is not push and r.inputs["principalId"] == push.inputs["principalId"]]
    assert others == []
    assert plan.outputs["image_push"]["registry_name"] == registry.inputs["registryName"]


def test_digitalocean_has_no_identity_only_the_token_named() -> None:
    plan = plan_config(FIXTURES / "configs" / "do.happy.yaml")
    output = plan.outputs["image_push"]
    assert output["token_secret"] == DIGITALOCEAN_REGISTRY_SECRET and output["registry"] == "registry.digitalocean.com"
    assert sorted(output["images"]) == sorted(CUSTOM_IMAGES)


@pytest.mark.parametrize("provider", list(PLANS))
def test_the_identity_is_exported_as_image_push(provider: str) -> None:
    output = PLANS[provider]().outputs["image_push"]
    assert output["provider"] == provider
    assert sorted(output["images"]) == sorted(CUSTOM_IMAGES)


def test_without_a_repository_no_identity_is_made(tmp_path: Path) -> None:
    document = yaml.safe_load((FIXTURES / "configs" / "gcp.happy.yaml").read_text())
    document["ci_cd"] = {"type": "github-actions"}
    path = tmp_path / "gcp.yaml"
    path.write_text(yaml.safe_dump(document))
    plan = plan_config(path)
    assert "image_push" not in plan.outputs
    assert not [r for r in plan.resources if "image-push" in r.name]


# --- qhub validate's check of the image pushes -------------------------------------------------------


def _project(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> Path:
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "stacks").mkdir()
    for name, ci in stacks.items():
        (tmp_path / "stacks" / f"{name}.yaml").write_text(yaml.safe_dump({**document, "ci_cd": ci}))
        (tmp_path / f"Pulumi.{name}.yaml").write_text(f"config:\n  qhub:configFile: stacks/{name}.yaml\n")
    for relative, text in {**expected_workflows(tmp_path), **image_files()}.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def _messages(project: Path) -> list[str]:
    return [str(issue) for issue in check_workflows(project, sorted(p.name[7:-5] for p in project.glob("Pulumi.*.yaml")))]


CI = {"type": "github-actions", "branch": "main", "repository": "example-lab/lab"}


def test_generated_projects_have_no_image_warnings(tmp_path: Path) -> None:
    assert _messages(_project(tmp_path, {"dev": CI, "prod": CI})) == []


def test_a_stack_added_later_is_reported_until_the_workflow_pushes_to_it(tmp_path: Path) -> None:
    project = _project(tmp_path, {"dev": CI})
    (project / "Pulumi.qa.yaml").write_text("config:\n  qhub:configFile: stacks/dev.yaml\n")
    assert f"stack qa: no workflow pushes the custom images to its registry (expected in {IMAGES_WORKFLOW}; see docs/ci-cd.md)" \
        in _messages(project)


def test_a_pushed_stack_without_repository_and_a_branch_mismatch_are_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"dev": CI})
    path = project / "stacks" / "dev.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "ci_cd": {"type": "github-actions", "branch": "release"}}))
    messages = _messages(project)
    assert (f"stack dev: {IMAGES_WORKFLOW} pushes images to its registry, but its ci_cd.repository is not set, "
            "so the stack creates no identity to push with") in messages
    assert f"{IMAGES_WORKFLOW}: pushes images for stack 'dev' on pushes to main, but its ci_cd.branch is 'release'" in messages


def test_a_push_for_a_stack_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, {"dev": CI, "old": CI})
    (project / "Pulumi.old.yaml").unlink()
    assert f"{IMAGES_WORKFLOW}: pushes images for stack 'old', which does not exist (no Pulumi.old.yaml)" in _messages(project)


def test_existing_clusters_get_no_images_workflow(tmp_path: Path) -> None:
    project = tmp_path
    shutil.copy(ROOT / "requirements.txt", project / "requirements.txt")
    (project / "stacks").mkdir()
    shutil.copy(FIXTURES / "configs" / "existing.happy.yaml", project / "stacks" / "dev.yaml")
    (project / "Pulumi.dev.yaml").write_text("config:\n  qhub:configFile: stacks/dev.yaml\n")
    assert IMAGES_WORKFLOW not in expected_workflows(project)


def test_hand_written_push_jobs_with_computed_matrices_are_read_without_error(tmp_path: Path) -> None:
    project = _project(tmp_path, {"dev": CI})
    (project / ".github" / "workflows" / "extra.yaml").write_text(
        "on:\n  push:\n    branches: [main]\njobs:\n"
        "  computed:\n    runs-on: ubuntu-24.04\n    strategy: ${{ fromJSON(vars.MATRIX) }}\n    steps:\n"
        "      - uses: docker/build-push-action@v7\n        with: {push: \"${{ github.event_name == 'push' }}\"}\n"
        "  odd: 5\n"
    )
    assert _messages(project) == []
