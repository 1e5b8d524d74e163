"""Issues and ConfigError: what validation reports. Plain Python, so reporting needs no pydantic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The most characters of a value an issue quotes: enough to recognise it, short enough that a
# 5,000-character value does not bury the message.
QUOTE_LIMIT = 60

# C0 and C1 control characters (and DEL). Issues end up on a terminal, where a raw escape
# sequence taken from the file could hide or rewrite what is printed.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def printable(text: str) -> str:
    """`text` with every control character written as its escape (`\\n`, `\\x1b`)."""
    return _CONTROL.sub(_escape, text)


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` cut to about `limit` characters, with an ellipsis when something was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: Any, as_repr: bool) -> str:
    # Python refuses to write an int of more than 4,300 digits as text; say what it is instead.
    if isinstance(value, int) and value.bit_length() > 256:
        return f"<a number of about {int(value.bit_length() * 0.30103)} digits>"
    try:
        return repr(value) if as_repr else (value if isinstance(value, str) else str(value))
    except Exception:  # a value that cannot be written out is still named, by its type
        return f"<{type(value).__name__}>"


def quote(value: Any) -> str:
    """A value as an issue shows it: its repr, control characters escaped, at most ~60 characters."""
    return clip(printable(_text(value, as_repr=True)))


def shown(value: Any) -> str:
    """A value as an issue shows it unquoted (numbers, names already checked): str, escaped, clipped."""
    return clip(printable(_text(value, as_repr=False)))


@dataclass(frozen=True)
class Issue:
    """One finding about a config file: where, what is wrong, and what is allowed."""

    path: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __post_init__(self) -> None:
        # The last guard: whatever built the issue, it prints as one line without raw control
        # characters.
        object.__setattr__(self, "path", printable(self.path))
        object.__setattr__(self, "message", printable(self.message))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """A config file is invalid; carries every error found, not just the first."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{source} is invalid:\n{lines}")
