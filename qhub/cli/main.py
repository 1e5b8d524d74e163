"""Entry point of the qhub command: parses arguments and runs one command module.

Exit codes: 0 success, 1 the input is invalid or the command failed, 2 usage error, 3 (`qhub
diff` only) the change would delete or replace a resource that holds data, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# QHub uses no pydantic plugins; without this pydantic scans every installed package's entry
# points on the first model it builds, a fifth of `qhub validate`'s time.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# Each module has `register(subparsers)`, which adds its parser and sets `run(args) -> int`.
COMMANDS = ("init", "validate", "plan", "schema", "diff")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qhub",
        description="QHub on Pulumi: one YAML file per stack becomes a data-science platform on Kubernetes.",
        epilog="Deploy with `pulumi up -s STACK`; see README.md.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"qhub.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:
        # A file the command reads or writes (`schema -o`, the files `init` writes): what
        # the system said about which file, not a traceback.
        where = f"{error.filename}: " if error.filename else ""
        print(f"qhub {args.command}: {where}{error.strerror or error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
