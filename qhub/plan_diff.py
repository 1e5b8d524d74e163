"""The difference between two offline plans (`qhub plan --json`), as a review summary.

A pull request's reviewers see what the change does to a stack without credentials: resources
added, removed and changed (by URN, with the input keys that changed), stack outputs that
changed, and, in bold, whatever puts a protected resource at risk: its deletion, its URN
changing (a replacement unless an alias is added), its protection being lifted, or any change
to its inputs (some of which a provider can only apply by replacing it; the preview tells).

Pure functions of the two plan dicts. Values are never shown, only key paths, and secrets are
already "[secret]" in the plans, so a summary carries no secret material.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Input key paths are reported this deep (`values.hub.config`); below, a change counts for its parent.
KEY_DEPTH = 3
# Fields of a plan resource other than inputs whose change a reviewer must see.
_SETTINGS = ("parent", "provider", "dependencies", "protect", "retainOnDelete", "ignoreChanges")


@dataclass(frozen=True)
class Change:
    """A resource in both plans whose inputs or settings differ."""

    urn: str
    type: str
    name: str
    inputs: list[str]  # changed input key paths
    settings: list[str]  # changed fields among _SETTINGS
    protected: bool


@dataclass
class PlanDiff:
    """Everything that differs between a base plan and a head plan."""

    stack: str
    provider: str
    total: int  # resources in the head plan
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    outputs: dict[str, list[str]] = field(default_factory=dict)  # "added"/"removed"/"changed" -> names
    risks: list[str] = field(default_factory=list)  # Markdown-free sentences about protected resources

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or any(self.outputs.values()))


def _guarded(resource: dict[str, Any]) -> bool:
    return bool(resource.get("protect") or resource.get("retainOnDelete"))


def changed_paths(old: Any, new: Any, prefix: str = "", depth: int = KEY_DEPTH) -> list[str]:
    """Key paths (dotted, `[i]` for list items) where two input values differ."""
    if old == new:
        return []
    if depth and isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                paths.append(path)
            else:
                paths += changed_paths(old[key], new[key], path, depth - 1)
        return paths
    if depth and isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        paths = []
        for index, (a, b) in enumerate(zip(old, new)):
            paths += changed_paths(a, b, f"{prefix}[{index}]", depth - 1)
        return paths
    return [prefix or "(value)"]


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Compare two plans of one stack; resources are matched by URN."""
    before = {r["urn"]: r for r in base.get("resources", [])}
    after = {r["urn"]: r for r in head.get("resources", [])}
    result = PlanDiff(
        stack=str(head.get("stack") or base.get("stack") or "?"),
        provider=str(head.get("provider") or base.get("provider") or "?"),
        total=len(after),
        added=[after[urn] for urn in after if urn not in before],
        removed=[before[urn] for urn in before if urn not in after],
    )
    for urn, new in after.items():
        old = before.get(urn)
        if old is None:
            continue
        inputs = changed_paths(old.get("inputs", {}), new.get("inputs", {}))
        settings = [key for key in _SETTINGS if old.get(key) != new.get(key)]
        if inputs or settings:
            result.changed.append(Change(urn, new["type"], new["name"], inputs, settings, _guarded(old) or _guarded(new)))

    # A URN changes when a resource is renamed or moved to another parent: Pulumi deletes the old
    # one and creates the new one unless an alias links them.
    moved = {(r["type"], r["name"]) for r in result.added}
    for resource in result.removed:
        if not _guarded(resource):
            continue
        if (resource["type"], resource["name"]) in moved:
            result.risks.append(f"protected {resource['type']} `{resource['name']}` changes URN: "
                                "it is replaced unless the new resource has an alias to the old URN")
        else:
            result.risks.append(f"protected {resource['type']} `{resource['name']}` is deleted "
                                "(`pulumi up` refuses while it is protected; its data is lost if it is unprotected)")
    for change in result.changed:
        if not change.protected:
            continue
        if "protect" in change.settings or "retainOnDelete" in change.settings:
            result.risks.append(f"protection of {change.type} `{change.name}` changes "
                                f"({', '.join(s for s in change.settings if s in ('protect', 'retainOnDelete'))})")
        if change.inputs:
            result.risks.append(f"protected {change.type} `{change.name}` changes inputs "
                                f"({', '.join(change.inputs)}): check the preview for a replacement")

    old_out, new_out = base.get("outputs", {}) or {}, head.get("outputs", {}) or {}
    result.outputs = {
        "added": sorted(k for k in new_out if k not in old_out),
        "removed": sorted(k for k in old_out if k not in new_out),
        "changed": sorted(k for k in new_out if k in old_out and old_out[k] != new_out[k]),
    }
    return result


def _counts(diff: PlanDiff) -> str:
    return (f"{len(diff.added)} to add, {len(diff.removed)} to remove, {len(diff.changed)} to change "
            f"({diff.total} resources in the plan)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_summary(base: dict[str, Any], head: dict[str, Any]) -> str:
    """A Markdown summary of the difference, for a job summary or a pull-request comment."""
    diff = diff_plans(base, head)
    lines = [f"### Offline plan of `{diff.stack}` ({diff.provider})", ""]
    if diff.empty:
        return "\n".join([*lines, f"No change ({diff.total} resources in the plan).", ""])
    lines += [f"**{_counts(diff)}**", ""]
    for risk in diff.risks:
        lines.append(f"- :warning: **{risk}**")
    if diff.risks:
        lines.append("")
    rows: list[str] = []
    for resource in diff.added:
        rows.append(f"| added | `{_cell(resource['urn'])}` | |")
    for resource in diff.removed:
        flag = " **(protected)**" if _guarded(resource) else ""
        rows.append(f"| removed{flag} | `{_cell(resource['urn'])}` | |")
    for change in diff.changed:
        keys = ", ".join(f"`{_cell(k)}`" for k in change.inputs + change.settings)
        flag = " **(protected)**" if change.protected else ""
        rows.append(f"| changed{flag} | `{_cell(change.urn)}` | {keys} |")
    if rows:
        table = ["| | Resource (URN) | Changed keys |", "|---|---|---|", *rows]
        # Long tables fold away so the counts and the warnings stay in view.
        if len(rows) > 15:
            table = ["<details><summary>Resources</summary>", "", *table, "", "</details>"]
        lines += [*table, ""]
    for kind, names in diff.outputs.items():
        if names:
            lines.append(f"Outputs {kind}: {', '.join(f'`{n}`' for n in names)}  ")
    return "\n".join(lines).rstrip() + "\n"


def text_summary(base: dict[str, Any], head: dict[str, Any]) -> str:
    """The same summary as plain text, for a terminal."""
    diff = diff_plans(base, head)
    lines = [f"stack {diff.stack} ({diff.provider}): " + ("no change" if diff.empty else _counts(diff))]
    lines += [f"  WARNING: {risk}" for risk in diff.risks]
    lines += [f"  + {r['urn']}" for r in diff.added]
    lines += [f"  - {r['urn']}{' (protected)' if _guarded(r) else ''}" for r in diff.removed]
    lines += [f"  ~ {c.urn}: {', '.join(c.inputs + c.settings)}" for c in diff.changed]
    lines += [f"  outputs {kind}: {', '.join(names)}" for kind, names in diff.outputs.items() if names]
    return "\n".join(lines) + "\n"
