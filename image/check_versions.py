"""Fails an image build whose Python or dask packages differ from what both images share.

The last step of both Dockerfiles: `python check_versions.py PYTHON dask.txt`. A client and
workers that disagree on these fail when they connect; this stops the build instead.
"""

import sys
from importlib.metadata import PackageNotFoundError, version


def main(python: str, pins_file: str) -> int:
    problems = []
    running = "%d.%d" % sys.version_info[:2]
    if running != python:
        problems.append(f"Python is {running}, expected {python}")
    with open(pins_file, encoding="utf-8") as pins:
        for line in pins:
            requirement = line.split("#", 1)[0].strip()
            if not requirement:
                continue
            name, _, wanted = requirement.partition("==")
            try:
                found = version(name)
            except PackageNotFoundError:
                found = "not installed"
            if found != wanted:
                problems.append(f"{name} is {found}, expected {wanted}")
    for problem in problems:
        print(f"check_versions: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
