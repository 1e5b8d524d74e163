"""`qhub validate`: check QHub files offline and report every error and warning at once."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

from qhub.cli import output
from qhub.cli.targets import add_target_arguments, resolve


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "validate", help="check a stack's QHub file (or all stacks) without any cloud access",
        description="Check QHub files offline. Exit 0 when valid, 1 when invalid, 2 on usage errors. "
                    "Verdicts of unchanged files are cached (see qhub/config/verdicts.py).",
    )
    add_target_arguments(parser)
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--no-cache", action="store_true", help="validate even files whose verdict is cached")
    parser.set_defaults(run=run)


def judge(path: Path, use_cache: bool = True):  # type: ignore[no-untyped-def]  # -> Verdict
    """The verdict on one QHub file, from the cache when the file and the code are unchanged."""
    from qhub.config import verdicts

    if use_cache and (cached := verdicts.lookup(path)) is not None:
        return cached
    from qhub.config import ConfigError, load_file

    try:
        loaded = load_file(path)
    except ConfigError as error:
        verdict = verdicts.Verdict(valid=False, issues=error.issues)
    else:
        config = loaded.config
        verdict = verdicts.Verdict(valid=True, issues=loaded.warnings, provider=config.provider.value,
                                   ci_type=config.ci_cd.type, ci_branch=config.ci_cd.branch)
    if use_cache:
        verdicts.store(path, verdict)
    return verdict


def run(args: argparse.Namespace) -> int:
    from qhub.config import ConfigError

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
        verdict = judge(target.path, use_cache=not args.no_cache)
        output.issues(str(target.path), verdict.issues)
        if not verdict.valid:
            failed = True
            continue
        ci_settings[target.stack] = SimpleNamespace(type=verdict.ci_type, branch=verdict.ci_branch)
        failed = failed or (args.strict and bool(verdict.issues))
        output.success(f"{target.path} is valid (stack {target.stack}, provider {verdict.provider})")
    if args.config is None:
        from qhub.cicd import check_workflows

        workflow_issues = check_workflows(args.project_dir, [t.stack for t in targets], ci_settings)
        output.issues("ci", workflow_issues)
        failed = failed or (args.strict and bool(workflow_issues))
    return 1 if failed else 0
