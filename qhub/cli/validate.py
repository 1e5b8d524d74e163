"""`qhub validate`: check QHub files offline and report every error and warning at once."""

from __future__ import annotations

import argparse

from qhub.cli import output
from qhub.cli.targets import add_target_arguments, resolve


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "validate", help="check a stack's QHub file (or all stacks) without any cloud access",
        description="Check QHub files offline. Exit 0 when valid, 1 when invalid, 2 on usage errors.",
    )
    add_target_arguments(parser)
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qhub.config import ConfigError, load_file

    try:
        targets = resolve(args, all_when_none=True)
    except ConfigError as error:
        output.issues(error.source, error.issues)
        return 1
    if not targets:
        output.error(f"no stacks in {args.project_dir.resolve()} (no Pulumi.<stack>.yaml); use --config FILE")
        return 2
    failed = False
    ci_settings = {}
    for target in targets:
        try:
            loaded = load_file(target.path)
        except ConfigError as error:
            output.issues(error.source, error.issues)
            failed = True
            continue
        output.issues(loaded.source, loaded.warnings)
        ci_settings[target.stack] = loaded.config.ci_cd
        failed = failed or (args.strict and bool(loaded.warnings))
        output.success(f"{target.path} is valid (stack {target.stack}, provider {loaded.config.provider.value})")
    if args.config is None:
        workflow_issues = _workflow_issues(args, [t.stack for t in targets], ci_settings)
        output.issues("ci", workflow_issues)
        failed = failed or (args.strict and bool(workflow_issues))
    return 1 if failed else 0


def _workflow_issues(args: argparse.Namespace, stacks: list[str], ci_settings: dict) -> list:  # list[Issue]
    """Warnings where the GitHub workflows and the stack files disagree."""
    from qhub.cicd import check_workflows

    return check_workflows(args.project_dir, stacks, ci_settings)
