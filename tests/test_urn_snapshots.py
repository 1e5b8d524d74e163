"""Refactors keep URNs: every plan's URNs equal the committed snapshot.

A resource's URN is its identity in the Pulumi state: stack, project, the type tokens of its
parents, its own type token and its logical name. When one of them changes, Pulumi deletes the
resource and creates a new one, unless the new one carries `aliases` to the old URN; for a disk
or a claim that means empty home folders. So every plan of every stack, compat config and happy
fixture is compared with its snapshot under tests/snapshots/urns/, and a change to any URN fails
here, in review, before it reaches a stack. A URN that is gone is either a rename to give
`aliases`, or a resource removed on purpose; a new URN is a resource added.

When the change is intended, record it (and commit the snapshot with the change, so the review
shows it):

    QHUB_UPDATE_URN_SNAPSHOTS=1 .venv/bin/python -m pytest -q tests/test_urn_snapshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import COMPAT_CONFIGS, all_plans

SNAPSHOTS = Path(__file__).parent / "snapshots" / "urns"
UPDATE = os.environ.get("QHUB_UPDATE_URN_SNAPSHOTS") == "1"
COMMAND = "QHUB_UPDATE_URN_SNAPSHOTS=1 .venv/bin/python -m pytest -q tests/test_urn_snapshots.py"
PLANS = all_plans()


def snapshot_file(label: str) -> Path:
    return SNAPSHOTS / f"{label}.txt"


def read_snapshot(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def write_snapshot(path: Path, urns: list[str]) -> None:
    header = f"# URNs of the plan {path.stem}; a change here replaces resources. Update on purpose: {COMMAND}\n"
    path.write_text(header + "".join(f"{urn}\n" for urn in urns), encoding="utf-8")


@pytest.mark.parametrize("label", list(PLANS))
def test_urns_match_the_snapshot(label: str) -> None:
    urns = sorted(resource.urn for resource in PLANS[label]().resources)
    path = snapshot_file(label)
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        write_snapshot(path, urns)
        return
    assert path.exists(), f"no URN snapshot for {label}; record it: {COMMAND}"
    recorded = read_snapshot(path)
    gone = sorted(set(recorded) - set(urns))
    new = sorted(set(urns) - set(recorded))
    message = []
    if gone:
        message.append(f"{len(gone)} URN(s) are gone: Pulumi would delete these resources (and create any renamed "
                       "one anew, empty). Give the renamed resource `aliases=[...]` to its old URN, or, if the "
                       "removal is intended, update the snapshot:\n  " + "\n  ".join(gone))
    if new:
        message.append(f"{len(new)} URN(s) are new; if they are intended, update the snapshot:\n  " + "\n  ".join(new))
    assert not message, "\n".join(message) + f"\n(update on purpose: {COMMAND})"


def test_no_snapshot_is_left_without_its_plan() -> None:
    known = {snapshot_file(label).name for label in PLANS}
    stale = [path for path in sorted(SNAPSHOTS.glob("*.txt")) if path.name not in known]
    if not COMPAT_CONFIGS:  # the shared folder's compat configs are not here: their snapshots stay
        stale = [path for path in stale if not path.name.startswith("compat-")]
    if UPDATE:
        for path in stale:
            path.unlink()
        return
    assert not stale, f"snapshots of plans that no longer exist: {[p.name for p in stale]}; {COMMAND} removes them"


def test_a_renamed_resource_is_caught(tmp_path: Path) -> None:
    # The comparison itself: a snapshot holding an old name reports it as gone.
    label = "stack-staging"
    urns = sorted(resource.urn for resource in PLANS[label]().resources)
    renamed = [urn.replace("-storage-claim", "-home-claim") if urn.endswith("-storage-claim") else urn for urn in urns]
    assert renamed != urns
    write_snapshot(tmp_path / "old.txt", renamed)
    assert sorted(set(read_snapshot(tmp_path / "old.txt")) - set(urns)) == [u for u in renamed if u.endswith("-home-claim")]
