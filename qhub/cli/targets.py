"""Which QHub files a command works on: --stack NAME, --config FILE, or every stack."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """A QHub file and the stack it is planned as."""

    stack: str
    path: Path
    project_dir: Path


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--stack / --config / --project-dir, shared by validate and plan."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stack", "-s", metavar="NAME", help="a stack of this project (Pulumi.NAME.yaml)")
    group.add_argument("--config", "-c", metavar="FILE", type=Path, help="any QHub file, handled as stack `dev`")
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="directory holding Pulumi.yaml (default: .)")


def resolve(args: argparse.Namespace, *, all_when_none: bool) -> list[Target]:
    """The targets the arguments name; raises ConfigError for a stack that does not exist."""
    from qhub.config.files import project_stacks, stack_config_file

    project_dir: Path = args.project_dir
    if args.config is not None:
        return [Target("dev", args.config, project_dir)]
    stacks = [args.stack] if args.stack else (project_stacks(project_dir) if all_when_none else [])
    return [Target(stack, stack_config_file(stack, project_dir), project_dir) for stack in stacks]

