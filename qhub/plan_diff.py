"""The difference between two offline plans (`qhub plan --json`), as a review summary.

A pull request's reviewers see what the change does to a stack without credentials: resources
added, removed and changed (by URN, with the input keys that changed), stack outputs that
changed, and, first and in bold, the **data loss**: a protected or stateful resource (cluster,
file system, disk, volume, claim, registry, backup vault) that would be deleted or replaced.
Its URN leaving the plan is a deletion (a rename or a move to another parent without `aliases`
deletes the old resource and creates a new, empty one), and so is a change of an input that
names it (a Kubernetes object's name or namespace, a claim's immutable spec, a cloud
resource's name or location). `qhub diff` exits 3 when there is any. Other risks are warnings:
protection being lifted, other input changes of a protected resource, which some providers
apply by replacing it (the real preview tells), and a Helm release leaving the plan, which
uninstalls it.

The plans do not record aliases, so a rename that carries one is reported as data loss too; the
pull request's `pulumi preview` shows it as a rename, and a reviewer lets it through on purpose.

Pure functions of the two plan dicts. Values are never shown, only key paths, and secrets are
already "[secret]" in the plans, so a summary carries no secret material.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
# Input key paths are reported this deep (`values.hub.config`); below, a change counts for its parent.
KEY_DEPTH = 3
# Fields of a plan resource other than inputs whose change a reviewer must see.
_SETTINGS = ("parent", "provider", "dependencies", "protect", "retainOnDelete", "ignoreChanges")

# Resource types that hold users' data, or whose deletion deletes the data in them: a cluster
# holds the hub's database and every dynamically provisioned disk.
STATEFUL_TYPES = frozenset({
    # clusters
    "aws:eks/cluster:Cluster",
    "gcp:container/cluster:Cluster",
    "azure-native:containerservice:ManagedCluster",
    "digitalocean:index/kubernetesCluster:KubernetesCluster",
    # file systems, disks and volumes
    "aws:efs/fileSystem:FileSystem",
    "aws:ebs/volume:Volume",
    "gcp:compute/disk:Disk",
    "gcp:compute/regionDisk:RegionDisk",
    "gcp:filestore/instance:Instance",
    "azure-native:compute:Disk",
    "digitalocean:index/volume:Volume",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:core/v1:PersistentVolumeClaim",
    # registries
    "aws:ecr/repository:Repository",
    "gcp:artifactregistry/repository:Repository",
    "azure-native:containerregistry:Registry",
    "digitalocean:index/containerRegistry:ContainerRegistry",
    # backups: deleting the vault or the protected item deletes the backups
    "aws:backup/vault:Vault",
    "azure-native:dataprotection:BackupVault",
    "azure-native:dataprotection:BackupInstance",
})

# Inputs that say which object a resource is: a new value is a new object, so the old one is
# deleted. Kubernetes objects are known by name and namespace; a claim's spec is immutable but
# for its size, and pulumi-kubernetes replaces a claim when one of these changes.
_KUBERNETES_IDENTITY = ("metadata.name", "metadata.namespace")
_REPLACING_INPUTS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName", "spec.volumeMode",
        "spec.dataSource", "spec.dataSourceRef",
    ),
    # A cloud resource's name and place are fixed at creation (the APIs have no rename).
    "aws:eks/cluster:Cluster": ("name",),
    "aws:efs/fileSystem:FileSystem": ("creationToken", "encrypted", "kmsKeyId", "performanceMode"),
    "aws:ebs/volume:Volume": ("availabilityZone", "encrypted", "snapshotId"),
    "aws:ecr/repository:Repository": ("name",),
    # GKE's datapath (Dataplane V2) is chosen at creation only: a new one is a new cluster.
    "gcp:container/cluster:Cluster": ("name", "location", "project", "datapathProvider"),
    "gcp:compute/disk:Disk": ("name", "zone", "project", "type"),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", "location", "project", "format"),
    "azure-native:containerservice:ManagedCluster": ("resourceName", "resourceGroupName", "location"),
    "azure-native:compute:Disk": ("diskName", "resourceGroupName", "location", "zones"),
    "azure-native:containerregistry:Registry": ("registryName", "resourceGroupName", "location"),
    "azure-native:dataprotection:BackupVault": ("vaultName", "resourceGroupName", "location"),
    "digitalocean:index/kubernetesCluster:KubernetesCluster": ("name", "region"),
    "digitalocean:index/volume:Volume": ("name", "region"),
    "digitalocean:index/containerRegistry:ContainerRegistry": ("name",),
}


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
    data_loss: list[str] = field(default_factory=list)  # Markdown-free sentences: deletions and replacements of data
    risks: list[str] = field(default_factory=list)  # other warnings about protected resources

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or any(self.outputs.values()))


def _guarded(resource: dict[str, Any]) -> bool:
    return bool(resource.get("protect") or resource.get("retainOnDelete"))


def holds_data(resource: dict[str, Any]) -> bool:
    """Protected, or of a type that holds data (custom resources only: components hold nothing)."""
    return _guarded(resource) or (bool(resource.get("custom", True)) and resource.get("type") in STATEFUL_TYPES)


def _what(resource: dict[str, Any]) -> str:
    kind = "protected" if _guarded(resource) else "stateful"
    return f"{kind} {resource['type']} `{resource['name']}`"


def replacing_inputs(type_token: str, paths: list[str]) -> list[str]:
    """The changed input paths that make the provider replace a resource of this type."""
    keys = _REPLACING_INPUTS.get(type_token, ())
    if type_token.startswith("kubernetes:"):
        keys = (*_KUBERNETES_IDENTITY, *keys)
    return [path for path in paths if any(path == key or path.startswith((f"{key}.", f"{key}[")) for key in keys)]


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
        if not holds_data(resource):
            continue
        if (resource["type"], resource["name"]) in moved:
            result.data_loss.append(f"{_what(resource)} changes URN: it is replaced (deleted, then created "
                                    "empty) unless the new resource has an alias to the old URN")
        else:
            result.data_loss.append(f"{_what(resource)} is deleted: its URN leaves the plan (a rename or move "
                                    "without `aliases` deletes it and creates a new, empty one)")
    # A Helm release leaving the plan is uninstalled: Helm deletes every object it made (a removed
    # `helm_extensions` entry, say); a reviewer should see that, not just a URN in the table.
    for resource in result.removed:
        if resource.get("type") == RELEASE_TYPE:
            inputs = resource.get("inputs") or {}
            result.risks.append(f"helm release `{inputs.get('name', resource['name'])}` ({inputs.get('chart', '?')} "
                                f"{inputs.get('version', '?')}, namespace {inputs.get('namespace', '?')}) is uninstalled: "
                                "Helm deletes every object the chart made")
    for change in result.changed:
        old = before[change.urn]
        replacing = replacing_inputs(change.type, change.inputs) if holds_data(old) else []
        if replacing:
            result.data_loss.append(f"{_what(old)} is replaced: {', '.join(replacing)} cannot change in place")
        if not change.protected:
            continue
        if "protect" in change.settings or "retainOnDelete" in change.settings:
            result.risks.append(f"protection of {change.type} `{change.name}` changes "
                                f"({', '.join(s for s in change.settings if s in ('protect', 'retainOnDelete'))})")
        others = [path for path in change.inputs if path not in replacing]
        if others:
            result.risks.append(f"protected {change.type} `{change.name}` changes inputs "
                                f"({', '.join(others)}): check the preview for a replacement")

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


def _flag(resource: dict[str, Any]) -> str:
    return "protected" if _guarded(resource) else "holds data" if holds_data(resource) else ""


def markdown_summary(base: dict[str, Any], head: dict[str, Any]) -> str:
    """A Markdown summary of the difference, for a job summary or a pull-request comment."""
    return render_markdown(diff_plans(base, head))


def render_markdown(diff: PlanDiff) -> str:
    """The Markdown summary of a computed difference."""
    lines = [f"### Offline plan of `{diff.stack}` ({diff.provider})", ""]
    if diff.empty:
        return "\n".join([*lines, f"No change ({diff.total} resources in the plan).", ""])
    lines += [f"**{_counts(diff)}**", ""]
    if diff.data_loss:
        lines += [f"**:stop_sign: Data loss: {len(diff.data_loss)} resource(s) holding data would be deleted or replaced.**", ""]
        lines += [f"- :stop_sign: **{loss}**" for loss in diff.data_loss]
        lines.append("")
    for risk in diff.risks:
        lines.append(f"- :warning: **{risk}**")
    if diff.risks:
        lines.append("")
    rows: list[str] = []
    for resource in diff.added:
        rows.append(f"| added | `{_cell(resource['urn'])}` | |")
    for resource in diff.removed:
        flag = f" **({_flag(resource)})**" if _flag(resource) else ""
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
    return render_text(diff_plans(base, head))


def render_text(diff: PlanDiff) -> str:
    """The plain-text summary of a computed difference."""
    lines = [f"stack {diff.stack} ({diff.provider}): " + ("no change" if diff.empty else _counts(diff))]
    lines += [f"  DATA LOSS: {loss}" for loss in diff.data_loss]
    lines += [f"  WARNING: {risk}" for risk in diff.risks]
    lines += [f"  + {r['urn']}" for r in diff.added]
    lines += [f"  - {r['urn']}{f' ({_flag(r)})' if _flag(r) else ''}" for r in diff.removed]
    lines += [f"  ~ {c.urn}: {', '.join(c.inputs + c.settings)}" for c in diff.changed]
    lines += [f"  outputs {kind}: {', '.join(names)}" for kind, names in diff.outputs.items() if names]
    return "\n".join(lines) + "\n"
