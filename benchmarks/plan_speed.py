"""Plan speed: medians of whole-process `python -m qhub plan --json --config FILE` runs.

(a) benchmarks/aws.full.yaml: a full AWS config, four node groups, three JupyterLab profiles,
    two dask worker profiles, two environments. Target: at most 2.8 s.
(b) the same with 10,000 users, 200 groups and 100 JupyterLab profiles, generated here from
    (a). Target: at most 1.5 x (a); anything quadratic in users, groups or profiles shows here.

Usage: python benchmarks/plan_speed.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE = HERE / "aws.full.yaml"
USERS, GROUPS, PROFILES = 10_000, 200, 100
TARGET_A, RATIO_B = 2.8, 1.5


def scaled(base: dict) -> dict:
    """(b): the base config with many users, groups and profiles, each naming a few of them."""
    config = dict(base)
    security = dict(config["security"])
    groups = dict(security["groups"])
    for index in range(GROUPS - len(groups)):
        groups[f"team{index:03d}"] = {"gid": 20_000_000 + index}
    names = list(groups)
    users = dict(security["users"])
    for index in range(USERS - len(users)):
        users[f"user{index:05d}"] = {
            "uid": 30_000_000 + index, "primary_group": "users",
            "secondary_groups": [names[index % len(names)], names[(index * 7 + 3) % len(names)]],
        }
    security.update(groups=groups, users=users)
    config["security"] = security
    profiles = dict(config["profiles"])
    jupyterlab = list(profiles["jupyterlab"])
    user_names = list(users)
    for index in range(PROFILES - len(jupyterlab)):
        jupyterlab.append({
            "display_name": f"Team profile {index:03d}", "description": "2 CPU / 8 GB",
            "groups": [names[(index * 2 + k) % len(names)] for k in range(2)],
            "users": [user_names[(index * 97 + k) % len(user_names)] for k in range(5)],
            "kubespawner_override": {"cpu_limit": 2, "cpu_guarantee": 1, "mem_limit": "8G", "mem_guarantee": "6G"},
        })
    profiles["jupyterlab"] = jupyterlab
    config["profiles"] = profiles
    return config


def run_once(config_file: Path) -> float:
    """Wall time of one whole `qhub plan --json` process; fails loudly if the plan fails."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "qhub", "plan", "--json", "--config", str(config_file)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"qhub plan failed for {config_file}:\n{result.stderr}")
    return elapsed


def median_of(config_file: Path, runs: int) -> float:
    run_once(config_file)  # warm the OS file cache and bytecode, as a second CI run would be
    return statistics.median(run_once(config_file) for _ in range(runs))


def _load_average() -> list[str]:
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?", "?", "?"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per config (median reported)")
    args = parser.parse_args()
    base = yaml.safe_load(BASE.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "aws.full.scaled.yaml"
        big.write_text(yaml.safe_dump(scaled(base), sort_keys=False))
        a = median_of(BASE, args.runs)
        b = median_of(big, args.runs)
    ok_a, ok_b = a <= TARGET_A, b <= RATIO_B * a
    verdict = {True: "PASS", False: "FAIL"}
    print(f"(a) full AWS config:                          median {a:.2f} s  (bound {TARGET_A} s)  {verdict[ok_a]}")
    print(f"(b) + {USERS} users, {GROUPS} groups, {PROFILES} profiles:  median {b:.2f} s  "
          f"= {b / a:.2f} x (a)  (bound {RATIO_B} x)  {verdict[ok_b]}")
    # Medians of wall time move with whatever else the machine runs; say how busy it was.
    print(f"load average (1, 5, 15 min): {' '.join(_load_average())}  runs per config: {args.runs}")
    print(verdict[ok_a and ok_b])
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
