"""The stacks of a project as CI sees them, and what a workflow reads from a stack's QHub file."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from qhub.cicd.settings import PRODUCTION_ENVIRONMENT, PRODUCTION_STACKS
from qhub.config.errors import ConfigError


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
    marked: bool | None = None  # the QHub file's `production`, when it is a boolean

    @property
    def production(self) -> bool:
        """As the program decides (QHubConfig.is_production): the file's key, else the stack's name."""
        return self.marked if self.marked is not None else self.name in PRODUCTION_STACKS

    @property
    def environment(self) -> str:
        return PRODUCTION_ENVIRONMENT if self.production else self.name


def stack_ci(project_dir: Path, stack: str) -> StackCi:
    """The stack's ci_cd settings; the defaults when its files cannot be read (validate says why)."""
    from pydantic import ValidationError

    from qhub.config import read_document, stack_config_file
    from qhub.config.model import CiCd

    marked = None
    try:
        document = read_document(stack_config_file(stack, project_dir))
        raw = document.get("ci_cd")
        marked = document.get("production") if isinstance(document.get("production"), bool) else None
        ci = CiCd.model_validate({"type": raw} if isinstance(raw, str) else (raw or {}))
    except (ConfigError, ValidationError):
        ci = CiCd.model_validate({})
    return StackCi(stack, ci.type, ci.branch, marked)


def promotion_order(stacks: list[StackCi]) -> list[StackCi]:
    """Non-production stacks first (by name), production stacks last."""
    return sorted(stacks, key=lambda s: (s.production, s.name))


def deploy_branch(stacks: list[StackCi]) -> str:
    """The branch whose pushes deploy: the one most stacks name (the first by name on a tie)."""
    counts = Counter(s.branch for s in stacks)
    return min(counts, key=lambda branch: (-counts[branch], branch))


def project_pulumi_version(project_dir: Path) -> str | None:
    """The Pulumi CLI to install: the version of the pinned Python SDK (released together)."""
    requirements = project_dir / "requirements.txt"
    if not requirements.exists():
        return None
    match = re.search(r"^pulumi==([0-9][^\s;#]*)", requirements.read_text(encoding="utf-8"), re.MULTILINE)
    return match[1] if match else None
