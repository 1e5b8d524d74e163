"""Medians of whole-process runs of `qhub --help` and `qhub validate` (bounds: 0.3 s each).

`validate` keeps verdicts of unchanged files (qhub/config/verdicts.py); the --no-cache rows
show what validating an edited file costs, where the pydantic model is built.

Usage: python benchmarks/cli_speed.py [--runs N]
Each command runs as a fresh `python -m qhub` process, as a user would start it, so import
time is part of the figure. Exit status 1 when a median is over its bound.

The warm-up run of each command writes the bytecode of QHub modules edited since
scripts/bootstrap compiled them, as a user's first run does. In a shell with
PYTHONDONTWRITEBYTECODE (as in this project's development containers) every measured run would
otherwise compile some 30 modules again: 0.1-0.2 s that is no part of what QHub costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOUND_SECONDS = 0.3
COMMANDS = {
    "qhub --help": ["--help"],
    "qhub validate --stack staging": ["validate", "--stack", "staging"],
    "qhub validate --config stacks/prod.yaml": ["validate", "--config", "stacks/prod.yaml"],
    # The same without the verdict cache: what the first run after an edit costs.
    "qhub validate --no-cache --stack staging": ["validate", "--no-cache", "--stack", "staging"],
    "qhub validate --no-cache --config stacks/prod.yaml": ["validate", "--no-cache", "--config", "stacks/prod.yaml"],
}


def median_seconds(arguments: list[str], runs: int) -> float:
    """Median wall time of `runs` fresh processes (after one warm-up for the file cache and
    the bytecode)."""
    command = [sys.executable, "-m", "qhub", *arguments]
    writes_bytecode = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False, env=writes_bytecode)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(arguments)} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return statistics.median(times)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: the figures are only as quiet as it is."""
    loadavg = Path("/proc/loadavg")
    return " ".join(loadavg.read_text().split()[:3]) if loadavg.exists() else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    over = False
    print(f"load average before: {load_average()}")
    for label, arguments in COMMANDS.items():
        seconds = median_seconds(arguments, args.runs)
        verdict = "ok" if seconds <= BOUND_SECONDS else "OVER"
        over = over or seconds > BOUND_SECONDS
        print(f"{label:52s} median {seconds:.3f} s  (bound {BOUND_SECONDS} s) {verdict}")
    print(f"load average after: {load_average()}")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
