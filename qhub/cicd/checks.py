"""The warnings `qhub validate` prints when the workflows and the stack files disagree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from qhub.cicd.images import check_images_workflow
from qhub.cicd.settings import DEPLOY_WORKFLOW, IMAGES_WORKFLOW, PULL_REQUEST_WORKFLOW
from qhub.cicd.stacks import StackCi, stack_ci
from qhub.cicd.workflows import shared_workflow
from qhub.config.errors import Issue
from qhub.config.files import project_stacks

if TYPE_CHECKING:
    from qhub.config.model import CiCd


@dataclass(frozen=True)
class WorkflowUse:
    """What the project's workflows do with Pulumi: stacks previewed, stacks deployed, branches."""

    previewed: dict[str, list[str]]  # stack -> workflow files
    deployed: dict[str, list[str]]
    deploy_branches: dict[str, list[str]]  # workflow file -> branches whose pushes run it
    files: list[str]


_MATRIX_REF = re.compile(r"^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$")


def _job_stacks(job: dict[str, Any], value: str) -> list[str]:
    """The stacks a `stack-name` names: a literal, or each value of a matrix key."""
    match = _MATRIX_REF.match(value.strip())
    if not match:
        return [] if "${{" in value else [value.split("/")[-1]]  # org/project/stack -> stack
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    values = matrix.get(match[1]) if isinstance(matrix, dict) else None
    found = [str(v) for v in values] if isinstance(values, list) else []
    found += [str(item[match[1]]) for item in matrix.get("include", []) if isinstance(item, dict) and match[1] in item]
    return found


def read_workflows(project_dir: Path) -> WorkflowUse:
    """Which stacks the workflows preview and deploy, from every pulumi/actions step in them."""
    previewed: dict[str, list[str]] = {}
    deployed: dict[str, list[str]] = {}
    branches: dict[str, list[str]] = {}
    folder = project_dir / ".github" / "workflows"
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    for path in files:
        relative = path.relative_to(project_dir).as_posix()
        try:
            document = shared_workflow(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # actionlint and GitHub report broken workflows; here they count for nothing
        if not isinstance(document, dict):
            continue
        runs_up = False
        for job in (document.get("jobs") or {}).values():
            if not isinstance(job, dict):
                continue
            for step in job.get("steps") or []:
                if not isinstance(step, dict) or not str(step.get("uses", "")).startswith("pulumi/actions@"):
                    continue
                inputs = step.get("with") or {}
                command, name = str(inputs.get("command", "")), str(inputs.get("stack-name", ""))
                target = {"preview": previewed, "up": deployed, "update": deployed}.get(command)
                if target is None or not name:
                    continue
                runs_up = runs_up or target is deployed
                for stack in _job_stacks(job, name):
                    target.setdefault(stack, []).append(relative)
        if runs_up:
            triggers = document.get("on") or {}
            push = triggers.get("push") if isinstance(triggers, dict) else None
            branches[relative] = [str(b) for b in (push or {}).get("branches", [])] if isinstance(push, dict) else []
    return WorkflowUse(previewed, deployed, branches, [p.relative_to(project_dir).as_posix() for p in files])


def check_workflows(project_dir: Path, stacks: list[str], ci_settings: Mapping[str, CiCd] | None = None) -> list[Issue]:
    """Warnings where the GitHub workflows and the stack files disagree.

    A github-actions stack that no workflow previews or deploys; a workflow naming a stack that
    does not exist; workflows deploying stacks whose ci_cd is none; a deploy workflow triggered
    by a branch other than the stack's ci_cd.branch; and those about image pushes (images.py).
    `ci_settings` gives the stacks' ci_cd when the caller has already loaded them (validate does).
    """
    use = read_workflows(project_dir)
    known = set(project_stacks(project_dir)) | set(stacks)
    given = ci_settings or {}
    settings = {
        name: StackCi(name, given[name].type, given[name].branch) if name in given else stack_ci(project_dir, name)
        for name in stacks
    }
    issues: list[Issue] = []

    def warn(path: str, message: str) -> None:
        issues.append(Issue(path, message, severity="warning"))

    for name, stack in settings.items():
        if stack.ci == "none":
            for workflow in sorted(set(use.previewed.get(name, []) + use.deployed.get(name, []))):
                warn(workflow, f"runs Pulumi on stack {name!r}, whose ci_cd is none; set ci_cd: github-actions or remove the job")
            continue
        if name not in use.previewed:
            warn(f"stack {name}", "no workflow runs `pulumi preview` on it for pull requests "
                                  f"(expected in {PULL_REQUEST_WORKFLOW}; see docs/ci-cd.md)")
        if name not in use.deployed:
            warn(f"stack {name}", f"no workflow runs `pulumi up` on it (expected in {DEPLOY_WORKFLOW}; see docs/ci-cd.md)")
        for workflow in sorted(set(use.deployed.get(name, []))):
            branches = use.deploy_branches.get(workflow, [])
            if branches and stack.branch not in branches:
                warn(workflow, f"deploys stack {name!r} on pushes to {', '.join(branches)}, "
                               f"but its ci_cd.branch is {stack.branch!r}")
    for kind, found in (("previews", use.previewed), ("deploys", use.deployed)):
        for name in sorted(set(found) - known):
            for workflow in sorted(set(found[name])):
                warn(workflow, f"{kind} stack {name!r}, which does not exist (no Pulumi.{name}.yaml)")
    issues += check_images_workflow(project_dir, list(settings.values()), known)
    if settings and all(s.ci == "none" for s in settings.values()):
        ours = [f for f in use.files if f in (PULL_REQUEST_WORKFLOW, DEPLOY_WORKFLOW, IMAGES_WORKFLOW)]
        for workflow in ours:
            if not any(workflow in files for files in (*use.previewed.values(), *use.deployed.values())):
                warn(workflow, "present although every stack has ci_cd: none; delete it or set ci_cd: github-actions")
    return issues
