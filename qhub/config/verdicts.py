"""A cache of validation verdicts, so `qhub validate` of an unchanged file answers at once.

Building the pydantic model costs most of validate's time; a verdict depends only on the file's
bytes and on the code that judged them. The key is a hash of both: the file, every module of
qhub.config, qhub/versions.py, qhub/images.py, the pinned chart schemas (qhub/schemas), and the
installed pydantic, PyYAML and jsonschema. Any change to one of them is a miss, and the file is
validated again. Entries live in $QHUB_CACHE_DIR, else
$XDG_CACHE_HOME/qhub/verdicts, else ~/.cache/qhub/verdicts; deleting them is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from qhub.config.errors import Issue

_FORMAT = "1"


@dataclass(frozen=True)
class Verdict:
    """What validating one file found: its issues, and what CI needs to know of a valid one."""

    valid: bool
    issues: list[Issue]
    provider: str | None = None
    ci_type: str | None = None
    ci_branch: str | None = None


def cache_dir() -> Path:
    """Where verdicts are kept."""
    if os.environ.get("QHUB_CACHE_DIR"):
        return Path(os.environ["QHUB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qhub" / "verdicts"


@cache
def _code_fingerprint() -> str:
    """Identity of the code that judges: qhub.config's sources and the parsers it relies on."""
    digest = hashlib.sha256(f"{_FORMAT} {sys.version}".encode())
    package = Path(__file__).resolve().parent
    # qhub/images.py judges too: its warnings about image builds are in every verdict.
    sources = sorted(package.rglob("*.py")) + [package.parent / "versions.py", package.parent / "images.py"]
    # Chart overrides are judged by the pinned chart schemas, with jsonschema.
    sources += sorted((package.parent / "schemas").glob("*.json"))
    for name in ("pydantic", "pydantic_core", "yaml", "jsonschema"):
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            sources.append(Path(spec.origin))
    for source in sources:
        digest.update(str(source).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _key(path: Path) -> str | None:
    try:
        content = path.read_bytes()
    except OSError:
        return None
    return hashlib.sha256(_code_fingerprint().encode() + b"\0" + content).hexdigest()


def lookup(path: Path) -> Verdict | None:
    """The cached verdict for this file as it is now, or None."""
    key = _key(path)
    if key is None:
        return None
    try:
        entry = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        return Verdict(
            valid=entry["valid"], issues=[Issue(*item) for item in entry["issues"]],
            provider=entry.get("provider"), ci_type=entry.get("ci_type"), ci_branch=entry.get("ci_branch"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(path: Path, verdict: Verdict) -> None:
    """Keep a verdict; a cache that cannot be written is skipped silently (it is only a cache)."""
    key = _key(path)
    if key is None:
        return
    entry = {
        "valid": verdict.valid, "issues": [[i.path, i.message, i.severity] for i in verdict.issues],
        "provider": verdict.provider, "ci_type": verdict.ci_type, "ci_branch": verdict.ci_branch,
    }
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        temporary.replace(folder / f"{key}.json")
    except OSError:
        pass
