"""Printing for the CLI: the only place that writes to the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports the config model only when a command needs it
    from qhub.config.errors import Issue


def _colour(code: str, text: str, stream: object) -> str:
    if getattr(stream, "isatty", lambda: False)() and not os.environ.get("NO_COLOR"):
        return f"\033[{code}m{text}\033[0m"
    return text


def error(message: str) -> None:
    """One error line on stderr."""
    print(_colour("31", "error: ", sys.stderr) + message, file=sys.stderr)


def issues(source: str, found: Iterable[Issue]) -> None:
    """Errors and warnings about a file, one per line, on stderr."""
    for issue in found:
        label = _colour("31", "error", sys.stderr) if issue.severity == "error" else _colour("33", "warning", sys.stderr)
        print(f"{label}: {source}: {issue}", file=sys.stderr)


def success(message: str) -> None:
    """A confirmation on stdout."""
    print(_colour("32", "ok", sys.stdout) + f": {message}")
