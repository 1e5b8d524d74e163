"""The custom images of a QHub project: the files under image/, and how a pushed build is named.

Creates nothing. `image_files()` is what `qhub init` writes under image/ (this repository's
image/ is that output, and a test keeps them equal): a Dockerfile per image on the pinned
default image, the list of what each adds, and the dask pins both install. `build_of` reads
the build an image reference names (the `sha-<commit>` tag the images workflow gives every
push), and `mixed_build_warnings` what `qhub validate` says when a stack's JupyterLab and dask
worker images come from different builds; `push_trust` is who the clouds let push (one
repository's deploy branch). Pure Python, no Pulumi: the config model, the clouds and the
workflows all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qhub import versions

if TYPE_CHECKING:
    from qhub.config.errors import Issue
    from qhub.config.model import CiCd, QHubConfig

IMAGE_DIR = "image"
# The images CI builds, each from image/<name>/Dockerfile, pushed as <registry>/<name>.
CUSTOM_IMAGES = ("jupyterlab", "dask-worker")
# The tag docker/metadata-action gives a push (`type=sha`): the commit, 7 hex digits by default.
BUILD_TAG_PREFIX = "sha-"
_BUILD_TAG = re.compile(rf"^{BUILD_TAG_PREFIX}[0-9a-f]{{7,40}}$")
GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"


def build_of(image: str) -> str | None:
    """The build an image reference comes from (`sha-1a2b3c4`), or None when its tag names none."""
    reference = image.split("@", 1)[0]  # a digest identifies one image, not a build of both
    tag = reference.rsplit(":", 1)[1] if ":" in reference.rsplit("/", 1)[-1] else ""
    return tag if _BUILD_TAG.match(tag) else None


@dataclass(frozen=True)
class PushTrust:
    """Who may push a stack's images: jobs of one GitHub repository on its deploy branch."""

    repository: str
    """owner/name, as `ci_cd.repository` gives it."""
    branch: str
    """The deploy branch (`ci_cd.branch`)."""

    @property
    def subject(self) -> str:
        """The `sub` GitHub puts in the OIDC token of such a job (one without an environment):
        the only subject the push identity trusts, never a wildcard."""
        return f"repo:{self.repository}:ref:refs/heads/{self.branch}"


def push_trust(ci_cd: CiCd) -> PushTrust | None:
    """The stack's push trust; None when it names no repository or its CI is not GitHub Actions."""
    if ci_cd.type != "github-actions" or not ci_cd.repository:
        return None
    return PushTrust(ci_cd.repository, ci_cd.branch)


def image_variable(stack: str) -> str:
    """The GitHub variable holding a stack's `image_push` output (`IMAGE_PUSH_STAGING`)."""
    return "IMAGE_PUSH_" + re.sub(r"[^A-Z0-9]", "_", stack.upper())


# --- the files under image/ ------------------------------------------------------------------

_DASK_TXT = """\
# dask, distributed and dask-gateway for both images, pinned here only: a client and workers
# that disagree on them fail when they connect. Written by `qhub init` from qhub/versions.py
# (DASK_PACKAGES: the versions {worker} ships). One name==version a
# line, the form both `mamba install --file` and `pip install -r` read.
{pins}
"""

_CHECK_VERSIONS = '''\
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
'''

_HOW_IT_IS_BUILT = """\
# Built by .github/workflows/images.yml with image/ as the context: on pull requests without
# pushing, on pushes to the deploy branch into every stack's registry, tagged sha-<commit>.
# Point default_images.{key} (or a profile) at a pushed tag, the same build for both images.
"""

_JUPYTERLAB_DOCKERFILE = """\
# The JupyterLab image: QHub's default user image plus what this team adds.
{built}#
# To add packages: list them in jupyterlab/packages.txt (conda-forge, one a line). What dask
# tasks import must be in the dask worker image too (dask-worker/requirements.txt).
# dask, distributed and dask-gateway come from dask.txt.
FROM {base}

COPY --chown=${{NB_UID}}:${{NB_GID}} dask.txt check_versions.py jupyterlab/packages.txt /tmp/qhub-image/
# The pins go into conda-meta/pinned too, so no later `mamba install`, here or in a user's
# server, moves dask away from the workers' version.
RUN grep -Ev '^[[:space:]]*(#|$)' /tmp/qhub-image/dask.txt >> "${{CONDA_DIR}}/conda-meta/pinned" \\
 && mamba install --yes --file /tmp/qhub-image/dask.txt --file /tmp/qhub-image/packages.txt \\
 && mamba clean --all --force-pkgs-dirs --yes \\
 && python /tmp/qhub-image/check_versions.py {python} /tmp/qhub-image/dask.txt \\
 && fix-permissions "${{CONDA_DIR}}" \\
 && fix-permissions "/home/${{NB_USER}}"
"""

_JUPYTERLAB_PACKAGES = """\
# What the JupyterLab image adds to {base}:
# conda-forge packages, one match spec a line, pinned (`xarray==2025.10.0`). Packages dask
# tasks import go in dask-worker/requirements.txt too, at the same version. dask, distributed
# and dask-gateway are pinned in dask.txt: leave them out here.
# The dask dashboard inside JupyterLab:
dask-labextension==7.0.0
"""

_DASK_WORKER_DOCKERFILE = """\
# The dask scheduler and worker image: QHub's default worker image plus what this team adds.
{built}#
# To add packages: list them in dask-worker/requirements.txt (pip; the base image is Python
# with pip, no conda), the ones dask tasks import at the JupyterLab image's versions.
# dask, distributed and dask-gateway come from dask.txt.
FROM {base}

COPY --chown=dask:dask dask.txt check_versions.py dask-worker/requirements.txt /tmp/qhub-image/
RUN pip install --no-cache-dir --requirement /tmp/qhub-image/dask.txt --requirement /tmp/qhub-image/requirements.txt \\
 && python /tmp/qhub-image/check_versions.py {python} /tmp/qhub-image/dask.txt
"""

_DASK_WORKER_REQUIREMENTS = """\
# What the dask worker image adds to {base}, installed with pip.
# One requirement a line, pinned (`xarray==2025.10.1`): every package dask tasks import, at the
# JupyterLab image's version (jupyterlab/packages.txt). dask, distributed and dask-gateway
# are pinned in dask.txt: leave them out here.
"""


def image_files() -> dict[str, str]:
    """The files `qhub init` writes under image/: relative path -> text."""
    pins = "\n".join(f"{name}=={version}" for name, version in versions.DASK_PACKAGES.items())
    lab, worker = versions.JUPYTERLAB_IMAGE, versions.DASK_WORKER_IMAGE
    python = versions.IMAGE_PYTHON
    return {
        f"{IMAGE_DIR}/dask.txt": _DASK_TXT.format(worker=worker, pins=pins),
        f"{IMAGE_DIR}/check_versions.py": _CHECK_VERSIONS,
        f"{IMAGE_DIR}/jupyterlab/Dockerfile": _JUPYTERLAB_DOCKERFILE.format(
            built=_HOW_IT_IS_BUILT.format(key="jupyterlab"), base=lab, python=python),
        f"{IMAGE_DIR}/jupyterlab/packages.txt": _JUPYTERLAB_PACKAGES.format(base=lab),
        f"{IMAGE_DIR}/dask-worker/Dockerfile": _DASK_WORKER_DOCKERFILE.format(
            built=_HOW_IT_IS_BUILT.format(key="dask_worker"), base=worker, python=python),
        f"{IMAGE_DIR}/dask-worker/requirements.txt": _DASK_WORKER_REQUIREMENTS.format(base=worker),
    }


# --- the check of a stack's images ------------------------------------------------------------


def _described(build: str | None) -> str:
    return f"build {build}" if build else "not one of this project's builds"


def mixed_build_warnings(config: QHubConfig) -> list[Issue]:
    """Warnings where a stack's JupyterLab and dask worker images come from different builds.

    The images of one stack are default_images and every profile's own; a JupyterLab image
    whose build (its sha- tag) differs from a worker image's is reported at the JupyterLab
    image's key, once, naming the worker images. Stacks on images of no build are quiet.
    """
    from qhub.config.errors import Issue, clip

    labs: list[tuple[tuple[object, ...], str]] = [(("default_images", "jupyterlab"), config.default_images.jupyterlab)]
    labs += [(("profiles", "jupyterlab", index, "kubespawner_override", "image"), str(profile.kubespawner_override["image"]))
             for index, profile in enumerate(config.profiles.jupyterlab) if profile.kubespawner_override.get("image")]
    workers: list[tuple[tuple[object, ...], str]] = [(("default_images", "dask_worker"), config.default_images.dask_worker)]
    workers += [(("profiles", "dask_worker", name, "image"), profile.image)
                for name, profile in config.profiles.dask_worker.items() if profile.image]
    if not any(build_of(image) for _, image in [*labs, *workers]):
        return []
    # Only stacks on built images pay for the module that words pydantic's errors (and difflib).
    from qhub.config.issues import key_path

    issues = []
    for lab_path, lab in labs:
        built = build_of(lab)
        others = [(path, build_of(image)) for path, image in workers if build_of(image) != built]
        if not others:
            continue
        listed = "; ".join(f"{key_path(path)} is {_described(build)}" for path, build in others)
        issues.append(Issue(
            key_path(lab_path),
            f"{clip(lab, 100)} is {_described(built)}, but {listed}: a client and workers of different builds "
            "may disagree on dask or on the packages image/ adds; use the same sha- tag for both images",
            "warning",
        ))
    return issues
