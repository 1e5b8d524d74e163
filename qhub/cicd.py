"""The GitHub Actions workflows of a QHub project, and the check that they still fit its stacks.

Creates nothing: `expected_workflows` returns the text of the workflows `qhub init` writes when a
stack's `ci_cd.type` is `github-actions` (the committed `.github/workflows` of this repository are
that output, and a test keeps them equal); `check_workflows` returns the warnings `qhub validate`
prints when workflows and stack files disagree; `stack_facts` is what a workflow reads from a
stack's QHub file (its cloud, domain, region) so one workflow serves every provider.

Pure functions over files: no Pulumi import, no network, nothing printed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from qhub.config.errors import ConfigError, Issue

if TYPE_CHECKING:
    from qhub.config.model import CiCd

PULL_REQUEST_WORKFLOW = ".github/workflows/pull-request.yml"
DEPLOY_WORKFLOW = ".github/workflows/deploy.yml"

# Every action the workflows use, pinned to the commit of a release tag (a tag can be moved; a
# commit cannot). The tag is written beside the commit so Dependabot and Renovate can bump both.
# Resolved from the actions' own repositories (`git rev-parse TAG^{commit}`).
ACTIONS: dict[str, tuple[str, str]] = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
}

PYTHON_VERSION = "3.11"
RUNNER = "ubuntu-24.04"  # a fixed image, not ubuntu-latest, so a runner upgrade is a reviewed change
# Stacks with these names are production: deployed last, behind the `production` environment.
PRODUCTION_STACKS = frozenset({"prod", "production"})
PRODUCTION_ENVIRONMENT = "production"
# Marks the plan-difference comment so later pushes edit it instead of adding another.
COMMENT_MARKER = "<!-- qhub-plan-diff -->"

_SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
_HEADER = (
    "# Written by `qhub init` from qhub/cicd.py. Yours to edit: `qhub validate` warns when the\n"
    "# workflows stop previewing or deploying a stack. Set-up (state backend, OIDC roles,\n"
    "# environments): docs/ci-cd.md.\n"
)


# --- what a workflow reads from a stack ------------------------------------------------------


def stack_facts(stack: str, project_dir: Path = Path(".")) -> dict[str, str]:
    """What the workflows need to know of a stack, from its QHub file, as `key=value` outputs.

    `provider` picks the cloud login, `region`/`project` feed it, `url` is where the smoke check
    looks, and `insecure_tls` is "true" when the certificate is not one a client trusts.
    Raises ConfigError when the stack or its QHub file is invalid.
    """
    from qhub.config import load_file, stack_config_file

    config = load_file(stack_config_file(stack, project_dir)).config
    cloud = config.cloud
    return {
        "provider": config.provider.value,
        "domain": config.domain,
        "url": f"https://{config.domain}",
        "region": str(getattr(cloud, "region", "") or ""),
        "project": str(getattr(cloud, "project", "") or ""),
        "insecure_tls": "false" if config.certificate.type in ("lets-encrypt", "existing") else "true",
    }


# --- the stacks of a project -----------------------------------------------------------------


@dataclass(frozen=True)
class StackCi:
    """A stack as CI sees it: its name, its `ci_cd` settings and its GitHub environment."""

    name: str
    ci: str  # "github-actions" or "none"
    branch: str

    @property
    def production(self) -> bool:
        return self.name in PRODUCTION_STACKS

    @property
    def environment(self) -> str:
        return PRODUCTION_ENVIRONMENT if self.production else self.name


def project_stacks(project_dir: Path) -> list[str]:
    """Stacks that have a Pulumi.<stack>.yaml in the project."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _stack_ci(project_dir: Path, stack: str) -> StackCi:
    """The stack's ci_cd settings; the defaults when its files cannot be read (validate says why)."""
    from pydantic import ValidationError

    from qhub.config import read_document, stack_config_file
    from qhub.config.model import CiCd

    try:
        raw = read_document(stack_config_file(stack, project_dir)).get("ci_cd")
        ci = CiCd.model_validate({"type": raw} if isinstance(raw, str) else (raw or {}))
    except (ConfigError, ValidationError):
        ci = CiCd.model_validate({})
    return StackCi(stack, ci.type, ci.branch)


def promotion_order(stacks: list[StackCi]) -> list[StackCi]:
    """Non-production stacks first (by name), production stacks last."""
    return sorted(stacks, key=lambda s: (s.production, s.name))


def _deploy_branch(stacks: list[StackCi]) -> str:
    """The branch whose pushes deploy: the one most stacks name (the first by name on a tie)."""
    counts = Counter(s.branch for s in stacks)
    return min(counts, key=lambda branch: (-counts[branch], branch))


def _pulumi_version(project_dir: Path) -> str | None:
    """The Pulumi CLI to install: the version of the pinned Python SDK (released together)."""
    requirements = project_dir / "requirements.txt"
    if not requirements.exists():
        return None
    match = re.search(r"^pulumi==([0-9][^\s;#]*)", requirements.read_text(encoding="utf-8"), re.MULTILINE)
    return match[1] if match else None


# --- building the workflows ------------------------------------------------------------------


def _uses(action: str) -> str:
    commit, _tag = ACTIONS[action]
    return f"{action}@{commit}"


def _checkout(**extra: Any) -> dict[str, Any]:
    # No token left in .git/config: nothing after checkout needs to push.
    return {"name": "Check out", "uses": _uses("actions/checkout"), "with": {"persist-credentials": False, **extra}}


def _install() -> list[dict[str, Any]]:
    return [
        {"name": "Set up Python", "uses": _uses("actions/setup-python"), "with": {"python-version": PYTHON_VERSION}},
        {
            "name": "Install the pinned dependencies",
            "run": "python -m venv .venv\n"
                   ".venv/bin/pip install uv\n"
                   "VIRTUAL_ENV=.venv .venv/bin/uv pip install -r requirements.txt\n",
        },
    ]


def _read_stack(stack_expr: str) -> dict[str, Any]:
    # The QHub file decides the cloud, so one job definition serves every provider.
    script = (
        ".venv/bin/python -c 'import sys; from qhub.cicd import stack_facts; "
        "print(*(f\"{k}={v}\" for k, v in stack_facts(sys.argv[1]).items()), sep=\"\\n\")' "
        "\"$STACK\" >> \"$GITHUB_OUTPUT\"\n"
    )
    return {"name": "Read the stack's QHub file", "id": "stack", "run": script, "env": {"STACK": stack_expr}}


def _cloud_logins(stack_expr: str) -> list[dict[str, Any]]:
    """OIDC logins, each run only for its cloud; the role or identity comes from GitHub variables.

    A job with a GitHub environment sees that environment's variables first, so the deploy role
    of `production` and the read-only preview role of pull requests share one variable name.
    """
    provider = "steps.stack.outputs.provider"
    return [
        {
            "name": "Log in to AWS (OIDC)",
            "if": f"{provider} == 'aws'",
            "uses": _uses("aws-actions/configure-aws-credentials"),
            "with": {
                "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
                "aws-region": "${{ steps.stack.outputs.region }}",
                "role-session-name": f"qhub-{stack_expr}-${{{{ github.run_id }}}}",
            },
        },
        {
            "name": "Log in to Google Cloud (workload identity federation)",
            "if": f"{provider} == 'gcp'",
            "uses": _uses("google-github-actions/auth"),
            "with": {
                "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
                "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
                "project_id": "${{ steps.stack.outputs.project }}",
            },
        },
        {
            "name": "Log in to Azure (OIDC)",
            "if": f"{provider} == 'azure'",
            "uses": _uses("azure/login"),
            "with": {
                "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
            },
        },
        {
            # An existing cluster has no OIDC login to offer; its kubeconfig is a secret.
            "name": "Write the kubeconfig of the existing cluster",
            "if": f"{provider} == 'existing'",
            "run": "umask 077\n"
                   "printf '%s' \"$KUBECONFIG_CONTENT\" > \"$RUNNER_TEMP/kubeconfig\"\n"
                   "echo \"KUBECONFIG=$RUNNER_TEMP/kubeconfig\" >> \"$GITHUB_ENV\"\n",
            "env": {"KUBECONFIG_CONTENT": "${{ secrets.KUBECONFIG }}"},
        },
    ]


def _pulumi(command: str, stack_expr: str, pulumi_version: str | None, *, comment: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "command": command,
        "stack-name": stack_expr,
        "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",  # empty: Pulumi Cloud with PULUMI_ACCESS_TOKEN
        "comment-on-summary": True,
        "diff": True,
        "suppress-outputs": True,  # outputs include the load balancer and the DNS record, not for logs
    }
    if pulumi_version:
        inputs["pulumi-version"] = pulumi_version
    if comment:
        inputs["comment-on-pr"] = True
        inputs["always-include-summary"] = True
    provider = "steps.stack.outputs.provider"
    return {
        "name": f"pulumi {command}",
        "uses": _uses("pulumi/actions"),
        "with": inputs,
        "env": {
            "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
            # The one long-lived cloud token: DigitalOcean has no OIDC federation for Actions.
            "DIGITALOCEAN_TOKEN": f"${{{{ {provider} == 'do' && secrets.DIGITALOCEAN_TOKEN || '' }}}}",
            # azure-native fetches fresh OIDC tokens itself: a long AKS update outlives a CLI token.
            "ARM_USE_OIDC": f"${{{{ {provider} == 'azure' }}}}",
            "ARM_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
            "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
            "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
        },
    }


def _stack_steps(command: str, stack_expr: str, pulumi_version: str | None, *, comment: bool) -> list[dict[str, Any]]:
    return [_checkout(), *_install(), _read_stack(stack_expr), *_cloud_logins(stack_expr),
            _pulumi(command, stack_expr, pulumi_version, comment=comment)]


def _plan_script() -> str:
    # The base branch's code is trusted; the head's may come from a fork, which is why this job
    # has a read-only token and no secrets. A stack new in this pull request has no base plan.
    return (
        'plans="$RUNNER_TEMP/plans"\n'
        'mkdir -p "$plans"\n'
        '.venv/bin/python -m qhub plan --stack "$STACK" --json > "$plans/head.json"\n'
        'if (cd base && ../.venv/bin/python -m qhub plan --stack "$STACK" --json) > "$plans/base.json"; then\n'
        '  note=""\n'
        'else\n'
        '  echo \'{"version": 1, "resources": [], "outputs": {}}\' > "$plans/base.json"\n'
        '  note="The base branch has no plan for this stack (new stack, or its plan failed)."\n'
        'fi\n'
        '.venv/bin/python -m qhub diff "$plans/base.json" "$plans/head.json" --markdown > "$plans/diff.md"\n'
        'mkdir -p plan-diff\n'
        '{ cat "$plans/diff.md"; [ -z "$note" ] || printf \'\\n_%s_\\n\' "$note"; } > "plan-diff/$STACK.md"\n'
        'cat "plan-diff/$STACK.md" >> "$GITHUB_STEP_SUMMARY"\n'
    )


def _comment_script() -> str:
    # Edits the previous comment (found by its marker) so a pull request keeps one plan comment.
    # GitHub limits a comment to 65536 characters; the job summaries keep the full text.
    return (
        f'marker={COMMENT_MARKER!r}\n'
        '{ echo "$marker"; echo "## Offline plan against the base branch"; echo;\n'
        '  cat plan-diff/*.md; } | head -c 60000 > comment.md\n'
        'id=$(gh api "repos/$REPO/issues/$PR/comments" --paginate \\\n'
        '  --jq ".[] | select(.user.login == \\"github-actions[bot]\\" and (.body | startswith(\\"$marker\\"))) | .id" | head -n 1)\n'
        'if [ -n "$id" ]; then\n'
        '  gh api --method PATCH "repos/$REPO/issues/comments/$id" -F body=@comment.md > /dev/null\n'
        'else\n'
        '  gh api --method POST "repos/$REPO/issues/$PR/comments" -F body=@comment.md > /dev/null\n'
        'fi\n'
    )


def pull_request_workflow(stacks: list[StackCi], branch: str, pulumi_version: str | None) -> dict[str, Any]:
    """Validate, plan offline against the base branch, and preview every stack."""
    names = [s.name for s in promotion_order(stacks)]
    matrix = {"fail-fast": False, "matrix": {"stack": names}}
    return {
        "name": "Pull request",
        # pull_request, never pull_request_target: a fork's code runs with a read-only token and
        # without secrets, so nothing it contains can reach a credential.
        "on": {"pull_request": {"branches": [branch]}},
        "permissions": {},  # jobs ask for what they need
        "jobs": {
            "validate": {
                "name": "Validate the stack files",
                "runs-on": RUNNER,
                "timeout-minutes": 10,
                "permissions": {"contents": "read"},
                "steps": [_checkout(), *_install(),
                          {"name": "qhub validate", "run": ".venv/bin/python -m qhub validate\n"}],
            },
            "plan": {
                "name": "Offline plan (${{ matrix.stack }})",
                "runs-on": RUNNER,
                "timeout-minutes": 20,
                "permissions": {"contents": "read"},
                "strategy": matrix,
                "steps": [
                    _checkout(),
                    {**_checkout(ref="${{ github.event.pull_request.base.sha }}", path="base"),
                     "name": "Check out the base branch"},
                    *_install(),
                    {"name": "Plan head and base, and compare", "run": _plan_script(),
                     "env": {"STACK": "${{ matrix.stack }}"}},
                    {"name": "Keep the comparison", "uses": _uses("actions/upload-artifact"),
                     "with": {"name": "plan-diff-${{ matrix.stack }}", "path": "plan-diff/", "retention-days": 7}},
                ],
            },
            "plan-comment": {
                "name": "Comment the plan difference",
                "needs": "plan",
                # A fork's token cannot comment; its plan is in the job summaries.
                "if": _SAME_REPOSITORY,
                "runs-on": RUNNER,
                "timeout-minutes": 5,
                "permissions": {"pull-requests": "write"},
                "steps": [
                    {"name": "Fetch the comparisons", "uses": _uses("actions/download-artifact"),
                     "with": {"pattern": "plan-diff-*", "path": "plan-diff", "merge-multiple": True}},
                    {"name": "Post or update the comment", "run": _comment_script(),
                     "env": {"GH_TOKEN": "${{ github.token }}", "REPO": "${{ github.repository }}",
                             "PR": "${{ github.event.pull_request.number }}"}},
                ],
            },
            "preview": {
                "name": "pulumi preview (${{ matrix.stack }})",
                "needs": "validate",
                # Previews need the state backend and cloud read access: only for branches of
                # this repository, whose authors already have write access.
                "if": _SAME_REPOSITORY,
                "runs-on": RUNNER,
                "timeout-minutes": 30,
                "permissions": {"contents": "read", "id-token": "write", "pull-requests": "write"},
                "strategy": matrix,
                # A newer push to the pull request supersedes a waiting preview of the same stack.
                "concurrency": {"group": "preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}",
                                "cancel-in-progress": False},
                "steps": _stack_steps("preview", "${{ matrix.stack }}", pulumi_version, comment=True),
            },
        },
    }


def _job_id(kind: str, stack: str) -> str:
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_-]', '-', stack)}"


def deploy_workflow(stacks: list[StackCi], branch: str, pulumi_version: str | None) -> dict[str, Any]:
    """`pulumi up` of each stack on a push to the deploy branch, production after the others pass."""
    ordered = promotion_order(stacks)
    first = [s for s in ordered if not s.production]
    jobs: dict[str, Any] = {}
    for stack in ordered:
        deploy, smoke = _job_id("deploy", stack.name), _job_id("smoke", stack.name)
        needs = [_job_id("smoke", s.name) for s in first] if stack.production else []
        job: dict[str, Any] = {
            "name": f"pulumi up ({stack.name})",
            # workflow_dispatch could start this from any branch; only the deploy branch deploys.
            "if": f"github.ref == 'refs/heads/{branch}'",
            "runs-on": RUNNER,
            "timeout-minutes": 90,
            "permissions": {"contents": "read", "id-token": "write"},
            # The environment holds the deploy role and, for production, the required reviewers.
            "environment": {"name": stack.environment, "url": "${{ steps.stack.outputs.url }}"},
            # One update per stack at a time; a queued update is never cancelled by a newer push.
            "concurrency": {"group": f"deploy-{stack.name}", "cancel-in-progress": False},
            "outputs": {"url": "${{ steps.stack.outputs.url }}",
                        "insecure_tls": "${{ steps.stack.outputs.insecure_tls }}"},
            "steps": _stack_steps("up", stack.name, pulumi_version, comment=False),
        }
        if needs:
            job = {"name": job.pop("name"), "needs": needs, **job}
        jobs[deploy] = job
        jobs[smoke] = {
            "name": f"Smoke check ({stack.name})",
            "needs": deploy,
            "runs-on": RUNNER,
            "timeout-minutes": 15,
            "permissions": {},
            "steps": [{
                "name": "The hub answers at /hub/health",
                # Retries cover the load balancer and the certificate settling after an update.
                "run": 'tls=""\n'
                       'if [ "$INSECURE_TLS" = true ]; then tls="--insecure"; fi\n'
                       'curl --fail --silent --show-error $tls --retry 30 --retry-delay 10 --retry-all-errors \\\n'
                       '  --max-time 10 "$URL/hub/health"\n'
                       'echo "$URL/hub/health answers" >> "$GITHUB_STEP_SUMMARY"\n',
                "env": {"URL": f"${{{{ needs.{deploy}.outputs.url }}}}",
                        "INSECURE_TLS": f"${{{{ needs.{deploy}.outputs.insecure_tls }}}}"},
            }],
        }
    return {
        "name": "Deploy",
        "on": {"push": {"branches": [branch]}, "workflow_dispatch": {}},
        "permissions": {},
        "jobs": jobs,
    }


# --- YAML out and in -------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """YAML 1.2 booleans only, so the `on:` key is written as is, not quoted as a YAML 1.1 bool."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a reader of the workflow sees every job whole, no &anchors


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Reads `on:` as the text "on", as GitHub does (with libyaml's parser when present: fast)."""


for _cls in (_Dumper, _Loader):
    _cls.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _cls.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None  # scripts as literal blocks, as people write them
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def _dump(document: dict[str, Any]) -> str:
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=10_000, default_flow_style=False)
    for action, (commit, tag) in ACTIONS.items():
        text = text.replace(f"uses: {action}@{commit}\n", f"uses: {action}@{commit} # {tag}\n")
    return _HEADER + text


def load_workflow(text: str) -> Any:
    """A workflow file as GitHub reads it (`on` stays a text key)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


# --- the public functions --------------------------------------------------------------------


def expected_workflows(project_dir: Path) -> dict[str, str]:
    """The workflows for the project's `github-actions` stacks: relative path -> file text.

    Empty when no stack uses github-actions.
    """
    stacks = [s for s in (_stack_ci(project_dir, name) for name in project_stacks(project_dir)) if s.ci == "github-actions"]
    if not stacks:
        return {}
    branch = _deploy_branch(stacks)
    version = _pulumi_version(project_dir)
    return {
        PULL_REQUEST_WORKFLOW: _dump(pull_request_workflow(stacks, branch, version)),
        DEPLOY_WORKFLOW: _dump(deploy_workflow(stacks, branch, version)),
    }


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
            document = load_workflow(path.read_text(encoding="utf-8"))
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
    by a branch other than the stack's ci_cd.branch. `ci_settings` gives the stacks' ci_cd when
    the caller has already loaded them (validate does), so no file is read twice.
    """
    use = read_workflows(project_dir)
    known = set(project_stacks(project_dir)) | set(stacks)
    given = ci_settings or {}
    settings = {
        name: StackCi(name, given[name].type, given[name].branch) if name in given else _stack_ci(project_dir, name)
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
    if settings and all(s.ci == "none" for s in settings.values()):
        ours = [f for f in use.files if f in (PULL_REQUEST_WORKFLOW, DEPLOY_WORKFLOW)]
        for workflow in ours:
            if not any(workflow in files for files in (*use.previewed.values(), *use.deployed.values())):
                warn(workflow, "present although every stack has ci_cd: none; delete it or set ci_cd: github-actions")
    return issues
