"""`qhub diff BASE.json HEAD.json`: what changes between two offline plans of a stack.

Exits 3, after printing the summary, when the change would delete or replace a resource that
holds data, so a pull-request check can fail on it (qhub/cicd lets a label override it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from qhub.cli import output

# The exit code when a protected or stateful resource would be deleted or replaced.
DATA_LOSS = 3


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "diff", help="compare two plans from `qhub plan --json` (added, removed, changed resources)",
        description="Compare two offline plans of a stack by URN: resources added, removed and changed "
                    "(with the input keys that changed) and changed outputs. Deletions and replacements of "
                    "protected or stateful resources (clusters, file systems, disks, claims, registries) "
                    "are flagged as data loss. Exit 0 on success, 1 when a plan cannot be read, "
                    f"{DATA_LOSS} (after the summary) when data would be lost.",
    )
    parser.add_argument("base", type=Path, help="the plan before the change (e.g. of the base branch)")
    parser.add_argument("head", type=Path, help="the plan after the change")
    parser.add_argument("--markdown", action="store_true", help="print Markdown, for a job summary or a PR comment")
    parser.set_defaults(run=run)


def _read_plan(path: Path) -> dict[str, Any]:
    """A plan document; ValueError says what is wrong with the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot be read: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(isinstance(r, dict) and "urn" in r for r in resources):
        raise ValueError(f"{path}: not a plan from `qhub plan --json` (needs a `resources` list of objects with a `urn`)")
    return document


def run(args: argparse.Namespace) -> int:
    from qhub.plan_diff import diff_plans, render_markdown, render_text

    try:
        base, head = _read_plan(args.base), _read_plan(args.head)
    except ValueError as error:
        output.error(str(error))
        return 1
    diff = diff_plans(base, head)
    print(render_markdown(diff) if args.markdown else render_text(diff), end="", flush=True)
    if diff.data_loss:
        output.error(f"{len(diff.data_loss)} resource(s) holding data would be deleted or replaced (exit {DATA_LOSS})")
        return DATA_LOSS
    return 0
