"""Building the pull-request and deploy workflows, and reading and writing them as GitHub does.

The images workflow is built in qhub/cicd/images.py and written with the others here.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from qhub.cicd.settings import (
    ACTIONS, COMMENT_MARKER, DATA_LOSS_LABEL, DEPLOY_WORKFLOW, HEADER, IMAGES_WORKFLOW, PULL_REQUEST_WORKFLOW,
    PYTHON_VERSION, RUNNER, SAME_REPOSITORY,
)
from qhub.cicd.images import images_workflow, registry_stacks
from qhub.cicd.stacks import StackCi, deploy_branch, project_pulumi_version, promotion_order, stack_ci
from qhub.config.files import project_stacks


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
    # `qhub diff` exits 3 when data would be lost; the summary is written first either way, and
    # a later step fails the job, so the comment and the artifact still carry the summary.
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
        'status=0\n'
        '.venv/bin/python -m qhub diff "$plans/base.json" "$plans/head.json" --markdown > "$plans/diff.md" || status=$?\n'
        'if [ "$status" != 0 ] && [ "$status" != 3 ]; then exit "$status"; fi\n'
        'if [ "$status" = 3 ] && [ "$ALLOW_DATA_LOSS" = true ]; then\n'
        '  verdict="The label \\`$LABEL\\` accepts this data loss."\n'
        'elif [ "$status" = 3 ]; then\n'
        '  verdict="This check fails: if the data loss is intended, add the label \\`$LABEL\\` to the pull request."\n'
        'else\n'
        '  verdict=""\n'
        'fi\n'
        'mkdir -p plan-diff\n'
        '{ cat "$plans/diff.md"; [ -z "$note" ] || printf \'\\n_%s_\\n\' "$note";\n'
        '  [ -z "$verdict" ] || printf \'\\n**%s**\\n\' "$verdict"; } > "plan-diff/$STACK.md"\n'
        'cat "plan-diff/$STACK.md" >> "$GITHUB_STEP_SUMMARY"\n'
        'if [ "$status" = 3 ]; then echo "data_loss=true" >> "$GITHUB_OUTPUT"; else echo "data_loss=false" >> "$GITHUB_OUTPUT"; fi\n'
    )


def _data_loss_gate() -> dict[str, Any]:
    """The step that fails the plan check when data would be lost, unless the label allows it."""
    return {
        "name": "Fail when data would be lost",
        "if": "steps.compare.outputs.data_loss == 'true'",
        "run": 'if [ "$ALLOW_DATA_LOSS" = true ]; then\n'
               '  echo "::warning::$STACK: resources holding data would be deleted or replaced; accepted by the label $LABEL"\n'
               'else\n'
               '  echo "::error::$STACK: resources holding data would be deleted or replaced (see the summary); '
               'add the label $LABEL to the pull request if that is intended"\n'
               '  exit 1\n'
               'fi\n',
        "env": _data_loss_env(),
    }


def _data_loss_env() -> dict[str, str]:
    return {
        "STACK": "${{ matrix.stack }}",
        "LABEL": DATA_LOSS_LABEL,
        "ALLOW_DATA_LOSS": f"${{{{ contains(github.event.pull_request.labels.*.name, '{DATA_LOSS_LABEL}') }}}}",
    }


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
        # without secrets, so nothing it contains can reach a credential. Labelling runs the plan
        # check again, since the data-loss label changes its verdict.
        "on": {"pull_request": {"branches": [branch], "types": ["opened", "synchronize", "reopened", "labeled", "unlabeled"]}},
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
                    {"name": "Plan head and base, and compare", "id": "compare", "run": _plan_script(),
                     "env": _data_loss_env()},
                    {"name": "Keep the comparison", "uses": _uses("actions/upload-artifact"),
                     "with": {"name": "plan-diff-${{ matrix.stack }}", "path": "plan-diff/", "retention-days": 7}},
                    _data_loss_gate(),
                ],
            },
            "plan-comment": {
                "name": "Comment the plan difference",
                "needs": "plan",
                # A fork's token cannot comment; its plan is in the job summaries. The comment is
                # posted when the plan check failed on data loss too: that is when it matters most.
                "if": f"!cancelled() && {SAME_REPOSITORY}",
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
                # this repository, whose authors already have write access. A label changes
                # nothing a preview shows, so labelling does not run one again.
                "if": f"{SAME_REPOSITORY} && github.event.action != 'labeled' && github.event.action != 'unlabeled'",
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


def dump_workflow(document: dict[str, Any]) -> str:
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=10_000, default_flow_style=False)
    for action, (commit, tag) in ACTIONS.items():
        text = text.replace(f"uses: {action}@{commit}\n", f"uses: {action}@{commit} # {tag}\n")
    return HEADER + text


def load_workflow(text: str) -> Any:
    """A workflow file as GitHub reads it (`on` stays a text key)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


@functools.lru_cache(maxsize=32)
def shared_workflow(text: str) -> Any:
    """load_workflow of `text`, parsed once per process and shared, for readers that never change
    it: `qhub validate` reads every workflow for its Pulumi steps and again for its image pushes."""
    return load_workflow(text)


def expected_workflows(project_dir: Path) -> dict[str, str]:
    """The workflows for the project's `github-actions` stacks: relative path -> file text.

    Empty when no stack uses github-actions; the images workflow only when a stack has a registry.
    """
    stacks = [s for s in (stack_ci(project_dir, name) for name in project_stacks(project_dir)) if s.ci == "github-actions"]
    if not stacks:
        return {}
    branch = deploy_branch(stacks)
    version = project_pulumi_version(project_dir)
    files = {
        PULL_REQUEST_WORKFLOW: dump_workflow(pull_request_workflow(stacks, branch, version)),
        DEPLOY_WORKFLOW: dump_workflow(deploy_workflow(stacks, branch, version)),
    }
    if pushed := registry_stacks(project_dir, stacks):
        files[IMAGES_WORKFLOW] = dump_workflow(images_workflow(pushed, branch))
    return files
