"""The images workflow: build image/* on pull requests, push them to every stack's registry on merges.

`images_workflow` builds `.github/workflows/images.yml`: a pull request touching image/ builds
each image and pushes nothing (read-only token, no secrets, so forks run it too); a push to the
deploy branch builds each image once per stack and pushes it to that stack's registry, tagged
`sha-<short commit>` and with the branch, logging in by OIDC with the identity the stack
created (its `image_push` output, kept in the GitHub variable IMAGE_PUSH_<STACK>).
DigitalOcean has no OIDC: there the job logs in with the registry token secret.
`check_images_workflow` is the part of `qhub validate`'s workflow check about pushing images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from qhub.cicd.settings import ACTIONS, IMAGES_WORKFLOW, RUNNER
from qhub.cicd.stacks import StackCi
from qhub.config.errors import Issue
from qhub.images import CUSTOM_IMAGES, IMAGE_DIR, image_variable

# The DigitalOcean token the push jobs log in with: a repository secret, since they run in no
# environment. A token limited to the container registry, not the deploy token.
DIGITALOCEAN_REGISTRY_SECRET = "DIGITALOCEAN_REGISTRY_TOKEN"
# Providers whose stacks have a registry the workflow pushes to (`existing` brings its own).
REGISTRY_PROVIDERS = ("aws", "gcp", "azure", "do")
# What the images depend on: a change to any of it is built on the pull request.
WATCHED_PATHS = [f"{IMAGE_DIR}/**", IMAGES_WORKFLOW]


def _uses(action: str) -> str:
    commit, _tag = ACTIONS[action]
    return f"{action}@{commit}"


@dataclass(frozen=True)
class RegistryStack:
    """A stack the images are pushed for: its name and whether its QHub file names the repository
    whose deploy branch may push (without `ci_cd.repository` the stack creates no push identity)."""

    name: str
    has_repository: bool


def registry_stacks(project_dir: Path, stacks: list[StackCi]) -> list[RegistryStack]:
    """The github-actions stacks whose cloud gives them a registry, in name order."""
    from qhub.config import read_document, stack_config_file
    from qhub.config.errors import ConfigError

    found = []
    for stack in sorted(stacks, key=lambda s: s.name):
        if stack.ci != "github-actions":
            continue
        try:
            document = read_document(stack_config_file(stack.name, project_dir))
        except ConfigError:
            continue  # validate reports the file itself
        provider = document.get("provider")
        ci = document.get("ci_cd")
        block = document.get("digital_ocean") or {}
        if provider not in REGISTRY_PROVIDERS or (provider == "do" and not (isinstance(block, dict) and block.get("container_registry"))):
            continue
        found.append(RegistryStack(stack.name, isinstance(ci, dict) and bool(ci.get("repository"))))
    return found


# --- the jobs ------------------------------------------------------------------------------------


def _build_step(*, push: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "context": IMAGE_DIR,  # both Dockerfiles copy image/dask.txt, shared by the two images
        "file": f"{IMAGE_DIR}/${{{{ matrix.image }}}}/Dockerfile",
        "push": push,
        # BuildKit's layers in the GitHub Actions cache, one scope per image: the pushes of the
        # other stacks, and the next pull request, reuse them.
        "cache-from": "type=gha,scope=${{ matrix.image }}",
        "cache-to": "type=gha,mode=max,scope=${{ matrix.image }}",
    }
    if push:
        inputs["tags"] = "${{ steps.meta.outputs.tags }}"
        inputs["labels"] = "${{ steps.meta.outputs.labels }}"
    return {"name": "Build and push" if push else "Build (nothing is pushed)", "uses": _uses("docker/build-push-action"),
            "with": inputs}


def _read_push_identity() -> dict[str, Any]:
    # The variable holds `pulumi stack output image_push --json`; a missing one is a set-up step
    # not yet done, said plainly rather than as a failed login.
    keys = "provider registry registry_name region role_arn workload_identity_provider service_account client_id tenant_id"
    return {
        "name": "Read the stack's push identity",
        "id": "push",
        "run": 'if [ -z "$PUSH" ]; then\n'
               '  echo "::error::the variable $VARIABLE is not set; after the first pulumi up of $STACK run:'
               ' gh variable set $VARIABLE --body \\"\\$(pulumi stack output image_push --json -s $STACK)\\" (docs/ci-cd.md)"\n'
               '  exit 1\n'
               'fi\n'
               f'for key in {keys}; do\n'
               '  echo "$key=$(jq -r --arg key "$key" \'.[$key] // ""\' <<< "$PUSH")" >> "$GITHUB_OUTPUT"\n'
               'done\n'
               'image=$(jq -r --arg image "$IMAGE" \'.images[$image] // ""\' <<< "$PUSH")\n'
               'if [ -z "$image" ]; then echo "::error::$VARIABLE names no repository for $IMAGE"; exit 1; fi\n'
               'echo "image=$image" >> "$GITHUB_OUTPUT"\n',
        "env": {"PUSH": "${{ matrix.push }}", "STACK": "${{ matrix.stack }}", "IMAGE": "${{ matrix.image }}",
                "VARIABLE": "${{ matrix.variable }}"},
    }


def _registry_logins() -> list[dict[str, Any]]:
    """Each cloud's login, run only for the stack's own; the identity comes from its output."""
    provider = "steps.push.outputs.provider"
    registry = {"REGISTRY": "${{ steps.push.outputs.registry }}"}
    return [
        {
            "name": "Log in to AWS (OIDC)",
            "if": f"{provider} == 'aws'",
            "uses": _uses("aws-actions/configure-aws-credentials"),
            "with": {
                "role-to-assume": "${{ steps.push.outputs.role_arn }}",
                "aws-region": "${{ steps.push.outputs.region }}",
                "role-session-name": "qhub-images-${{ matrix.stack }}-${{ github.run_id }}",
            },
        },
        {
            "name": "Log in to ECR",
            "if": f"{provider} == 'aws'",
            "run": 'aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$REGISTRY"\n',
            "env": {**registry, "REGION": "${{ steps.push.outputs.region }}"},
        },
        {
            "name": "Log in to Google Cloud (workload identity federation)",
            "id": "gcp",
            "if": f"{provider} == 'gcp'",
            "uses": _uses("google-github-actions/auth"),
            "with": {
                "workload_identity_provider": "${{ steps.push.outputs.workload_identity_provider }}",
                "service_account": "${{ steps.push.outputs.service_account }}",
                "token_format": "access_token",  # a short-lived token of the CI service account
            },
        },
        {
            "name": "Log in to Artifact Registry",
            "if": f"{provider} == 'gcp'",
            "run": 'printf \'%s\' "$ACCESS_TOKEN" | docker login --username oauth2accesstoken --password-stdin "https://$REGISTRY"\n',
            "env": {**registry, "ACCESS_TOKEN": "${{ steps.gcp.outputs.access_token }}"},
        },
        {
            "name": "Log in to Azure (OIDC)",
            "if": f"{provider} == 'azure'",
            "uses": _uses("azure/login"),
            "with": {
                "client-id": "${{ steps.push.outputs.client_id }}",
                "tenant-id": "${{ steps.push.outputs.tenant_id }}",
                # The identity has AcrPush on one registry and no role on the subscription.
                "allow-no-subscriptions": True,
            },
        },
        {
            "name": "Log in to ACR",
            "if": f"{provider} == 'azure'",
            "run": 'az acr login --name "$REGISTRY_NAME"\n',
            "env": {"REGISTRY_NAME": "${{ steps.push.outputs.registry_name }}"},
        },
        {
            # No OIDC federation on DigitalOcean: a registry token, used as user and password.
            # Written to Docker's config by the shell itself, so it is never a process argument.
            "name": "Log in to the DigitalOcean registry (token)",
            "if": f"{provider} == 'do'",
            "run": 'if [ -z "$DIGITALOCEAN_TOKEN" ]; then\n'
                   f'  echo "::error::the secret {DIGITALOCEAN_REGISTRY_SECRET} is not set (docs/ci-cd.md)"; exit 1\n'
                   'fi\n'
                   'umask 077\n'
                   'mkdir -p "$HOME/.docker"\n'
                   'auth=$(printf \'%s:%s\' "$DIGITALOCEAN_TOKEN" "$DIGITALOCEAN_TOKEN" | base64 --wrap=0)\n'
                   'echo "::add-mask::$auth"\n'
                   'printf \'{"auths": {"%s": {"auth": "%s"}}}\\n\' "$REGISTRY" "$auth" > "$HOME/.docker/config.json"\n',
            "env": {**registry, "DIGITALOCEAN_TOKEN": f"${{{{ secrets.{DIGITALOCEAN_REGISTRY_SECRET} }}}}"},
        },
    ]


def _checkout() -> dict[str, Any]:
    return {"name": "Check out", "uses": _uses("actions/checkout"), "with": {"persist-credentials": False}}


def images_workflow(stacks: list[RegistryStack], branch: str) -> dict[str, Any]:
    """The images workflow for the given stacks, deploying from `branch`."""
    images = list(CUSTOM_IMAGES)
    jobs: dict[str, Any] = {
        "build": {
            "name": "Build ${{ matrix.image }} (no push)",
            "if": "github.event_name == 'pull_request'",
            "runs-on": RUNNER,
            "timeout-minutes": 60,
            # What a fork's pull request gets too: a read-only token, no secrets, no cloud login.
            "permissions": {"contents": "read"},
            "strategy": {"fail-fast": False, "matrix": {"image": images}},
            "steps": [
                _checkout(),
                {"name": "Set up Docker Buildx", "uses": _uses("docker/setup-buildx-action")},
                _build_step(push=False),
            ],
        },
    }
    if stacks:
        jobs["push"] = {
            "name": "Push ${{ matrix.image }} (${{ matrix.stack }})",
            # workflow_dispatch could start this from any branch; only the deploy branch pushes.
            "if": f"github.event_name != 'pull_request' && github.ref == 'refs/heads/{branch}'",
            "runs-on": RUNNER,
            "timeout-minutes": 60,
            "permissions": {"contents": "read", "id-token": "write"},
            "strategy": {
                "fail-fast": False,
                "matrix": {
                    "stack": [s.name for s in stacks],
                    "image": images,
                    "include": [{"stack": s.name, "variable": image_variable(s.name),
                                 "push": f"${{{{ vars.{image_variable(s.name)} }}}}"} for s in stacks],
                },
            },
            # One push per stack and image at a time; a newer merge's push waits, and is never
            # cancelled halfway, so every merged commit's tag exists.
            "concurrency": {"group": "images-${{ matrix.stack }}-${{ matrix.image }}", "cancel-in-progress": False},
            "steps": [
                _checkout(),
                _read_push_identity(),
                *_registry_logins(),
                {"name": "Set up Docker Buildx", "uses": _uses("docker/setup-buildx-action")},
                {
                    "name": "Tags",
                    "id": "meta",
                    "uses": _uses("docker/metadata-action"),
                    "with": {
                        "images": "${{ steps.push.outputs.image }}",
                        # sha-<short commit> names the build (default_images point at it); the
                        # branch tag follows the newest push.
                        "tags": "type=sha,prefix=sha-,format=short\ntype=ref,event=branch\n",
                    },
                },
                _build_step(push=True),
            ],
        }
    return {
        "name": "Images",
        "on": {
            "pull_request": {"branches": [branch], "paths": WATCHED_PATHS},
            "push": {"branches": [branch], "paths": WATCHED_PATHS},
            "workflow_dispatch": {},  # the first push after the stacks' identities exist
        },
        "permissions": {},
        "jobs": jobs,
    }


# --- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PushJobs:
    stacks: dict[str, list[str]]  # stack -> workflow files whose jobs push to its registry
    branches: dict[str, list[str]]  # workflow file -> branches whose pushes run it


def _pushing_jobs(project_dir: Path) -> _PushJobs:
    """The jobs that push images (a docker/build-push-action step whose `push` is not false)."""
    from qhub.cicd.workflows import shared_workflow

    stacks: dict[str, list[str]] = {}
    branches: dict[str, list[str]] = {}
    folder = project_dir / ".github" / "workflows"
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []:
        relative = path.relative_to(project_dir).as_posix()
        try:
            document = shared_workflow(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(document, dict):
            continue
        pushes = False
        jobs = document.get("jobs")
        for job in jobs.values() if isinstance(jobs, dict) else []:
            steps = job.get("steps") if isinstance(job, dict) and isinstance(job.get("steps"), list) else []
            if not any(isinstance(step, dict) and str(step.get("uses", "")).startswith("docker/build-push-action@")
                       and isinstance(step.get("with"), dict) and step["with"].get("push") not in (None, False, "false")
                       for step in steps):
                continue
            pushes = True
            strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
            matrix = strategy.get("matrix") if isinstance(strategy.get("matrix"), dict) else {}
            listed = matrix.get("stack") if isinstance(matrix.get("stack"), list) else []
            included = matrix.get("include") if isinstance(matrix.get("include"), list) else []
            named = [*listed, *(i.get("stack") for i in included if isinstance(i, dict))]
            for stack in dict.fromkeys(str(s) for s in named if s is not None):
                stacks.setdefault(stack, []).append(relative)
        if pushes:
            push = (document.get("on") or {}).get("push") if isinstance(document.get("on"), dict) else None
            branches[relative] = [str(b) for b in (push or {}).get("branches", [])] if isinstance(push, dict) else []
    return _PushJobs(stacks, branches)


def check_images_workflow(project_dir: Path, stacks: list[StackCi], known: set[str]) -> list[Issue]:
    """Warnings where the image pushes and the stacks disagree.

    With images to build (an image/ folder): a stack with a registry no workflow pushes to, and
    one pushed to whose QHub file names no `ci_cd.repository` (so it has no push identity);
    a push job for a stack that does not exist; pushes on a branch other than the stack's
    ci_cd.branch.
    """
    issues: list[Issue] = []
    if not (project_dir / IMAGE_DIR).is_dir():
        return issues
    jobs = _pushing_jobs(project_dir)
    branch_of = {s.name: s.branch for s in stacks}

    def warn(path: str, message: str) -> None:
        issues.append(Issue(path, message, severity="warning"))

    for stack in registry_stacks(project_dir, stacks):
        workflows = sorted(set(jobs.stacks.get(stack.name, [])))
        if not workflows:
            warn(f"stack {stack.name}", "no workflow pushes the custom images to its registry "
                                        f"(expected in {IMAGES_WORKFLOW}; see docs/ci-cd.md)")
            continue
        if not stack.has_repository:
            warn(f"stack {stack.name}", f"{', '.join(workflows)} pushes images to its registry, but its ci_cd.repository "
                                        "is not set, so the stack creates no identity to push with")
        for workflow in workflows:
            pushed_from = jobs.branches.get(workflow, [])
            if pushed_from and branch_of[stack.name] not in pushed_from:
                warn(workflow, f"pushes images for stack {stack.name!r} on pushes to {', '.join(pushed_from)}, "
                               f"but its ci_cd.branch is {branch_of[stack.name]!r}")
    for name in sorted(set(jobs.stacks) - known):
        for workflow in sorted(set(jobs.stacks[name])):
            warn(workflow, f"pushes images for stack {name!r}, which does not exist (no Pulumi.{name}.yaml)")
    return issues
