"""The custom images under image/: generated, on the pinned default images, dask pinned once for
both, linted by hadolint, and `qhub validate` warning when a stack mixes builds.

No Docker engine runs here, so nothing is built: the Dockerfiles are read with BuildKit's own
parser (the `dockerfile` package wraps it) and linted with hadolint; the build's own version
check runs for real under this machine's Python.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import version
from pathlib import Path

import dockerfile
import pytest
import yaml
from packaging.requirements import Requirement

from qhub import versions
from qhub.cli.main import main
from qhub.images import CUSTOM_IMAGES, IMAGE_DIR, build_of, image_files
from tests.conftest import ROOT, SHARED

IMAGES = ROOT / IMAGE_DIR
BASES = {"jupyterlab": versions.JUPYTERLAB_IMAGE, "dask-worker": versions.DASK_WORKER_IMAGE}
# Where each image's own list of additions is, and the install command that reads the pins.
ADDITIONS = {"jupyterlab": "jupyterlab/packages.txt", "dask-worker": "dask-worker/requirements.txt"}
PIN_INSTALL = {"jupyterlab": "--file /tmp/qhub-image/dask.txt", "dask-worker": "--requirement /tmp/qhub-image/dask.txt"}
DASK_NAMES = set(versions.DASK_PACKAGES)


def _instructions(image: str) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(IMAGES / image / "Dockerfile")))


def _tool(name: str) -> str:
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        if found := shutil.which(name, path=folder):
            return found
    pytest.fail(f"{name} not installed: pip install -r requirements-dev.txt")


def _pins(path: Path) -> dict[str, str]:
    """name -> version of a requirements file whose lines are all `name==version`."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier  # exactly one, and exact
            assert specifier.operator == "==", line
            found[requirement.name] = specifier.version
    return found


def test_the_committed_image_files_are_the_generated_ones() -> None:
    # One source (qhub/images.py, what `qhub init` writes); regenerate rather than edit here.
    for relative, text in image_files().items():
        assert (ROOT / relative).read_text() == text, f"{relative} differs from qhub.images.image_files()"


@pytest.mark.parametrize("image", CUSTOM_IMAGES)
def test_each_image_is_one_stage_on_the_pinned_default_image(image: str) -> None:
    bases = [command.value[0] for command in _instructions(image) if command.cmd == "FROM"]
    assert bases == [BASES[image]]


@pytest.mark.parametrize("image", CUSTOM_IMAGES)
def test_each_image_copies_existing_files_and_installs_the_shared_pins(image: str) -> None:
    commands = _instructions(image)
    copied = [source for c in commands if c.cmd == "COPY" for source in c.value[:-1]]
    assert set(copied) == {"dask.txt", "check_versions.py", ADDITIONS[image]}
    for source in copied:  # the build context is image/, as the workflow's `context` says
        assert (IMAGES / source).is_file(), source
    steps = [step.strip() for c in commands if c.cmd == "RUN" for step in c.value[0].split("&&")]
    install = next(i for i, step in enumerate(steps) if PIN_INSTALL[image] in step)
    # After the installs, the build fails when Python or the dask packages are not the pinned ones.
    check = steps.index(f"python /tmp/qhub-image/check_versions.py {versions.IMAGE_PYTHON} /tmp/qhub-image/dask.txt")
    assert check > install and not any("install" in step for step in steps[check:])


@pytest.mark.parametrize("image", CUSTOM_IMAGES)
def test_each_dockerfile_says_how_to_add_packages(image: str) -> None:
    text = (IMAGES / image / "Dockerfile").read_text()
    assert f"To add packages: list them in {ADDITIONS[image]}" in text


def test_hadolint_passes_both_dockerfiles_and_catches_an_unpinned_base(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    files = [str(IMAGES / image / "Dockerfile") for image in CUSTOM_IMAGES]
    result = subprocess.run([hadolint, "--no-color", *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    unpinned = tmp_path / "Dockerfile"
    unpinned.write_text("FROM quay.io/jupyter/scipy-notebook\nRUN pip install xarray\n")
    result = subprocess.run([hadolint, "--no-color", str(unpinned)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "DL3006" in result.stdout  # the linter is live, not a stub


def test_dask_is_pinned_once_for_both_images_at_the_gateways_version() -> None:
    pins = _pins(IMAGES / "dask.txt")
    assert pins == versions.DASK_PACKAGES
    # dask and distributed are released together; the client is the gateway server's release.
    assert pins["dask"] == pins["distributed"]
    chart = yaml.safe_load((SHARED / "charts" / f"dask-gateway-{versions.DASK_GATEWAY_CHART.version}" / "Chart.yaml").read_text())
    values = yaml.safe_load((SHARED / "charts" / f"dask-gateway-{versions.DASK_GATEWAY_CHART.version}" / "values.yaml").read_text())
    worker = values["gateway"]["backend"]["image"]
    assert pins["dask-gateway"] == chart["appVersion"] == version("dask-gateway-server")
    # The chart's own scheduler and worker image is the dask worker base, at the same release.
    assert versions.DASK_WORKER_IMAGE == f"{worker['name']}:{worker['tag']}"
    assert versions.DASK_WORKER_IMAGE.rsplit(":", 1)[1] == pins["dask-gateway"]
    assert versions.DASK_GATEWAY_SERVER_IMAGE.rsplit(":", 1)[1] == pins["dask-gateway"]


def test_the_additions_leave_the_dask_pins_to_dask_txt() -> None:
    # A second pin of dask in an image's own list would let the two images drift apart.
    worker = _pins(IMAGES / "dask-worker" / "requirements.txt")
    assert not DASK_NAMES & set(worker)
    lab = [line.split("==")[0].split("=")[0].strip() for line in (IMAGES / "jupyterlab" / "packages.txt").read_text().splitlines()
           if line.strip() and not line.lstrip().startswith("#")]
    assert lab and not DASK_NAMES & set(lab)


def test_the_build_time_version_check_runs(tmp_path: Path) -> None:
    """image/check_versions.py, run as the Dockerfiles run it, against this machine's packages."""
    running = "%d.%d" % sys.version_info[:2]
    pins = tmp_path / "pins.txt"
    pins.write_text(f"# as dask.txt is written\npyyaml=={version('pyyaml')}\n")
    script = str(IMAGES / "check_versions.py")
    ok = subprocess.run([sys.executable, script, running, str(pins)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    pins.write_text("pyyaml==0.0.1\nno-such-package==1.0\n")
    bad = subprocess.run([sys.executable, script, "2.7", str(pins)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "Python is" in bad.stderr and "expected 2.7" in bad.stderr
    assert f"pyyaml is {version('pyyaml')}, expected 0.0.1" in bad.stderr
    assert "no-such-package is not installed, expected 1.0" in bad.stderr


@pytest.mark.parametrize(("image", "build"), [
    ("123456789012.dkr.ecr.us-west-2.amazonaws.com/lab-staging/jupyterlab:sha-1a2b3c4", "sha-1a2b3c4"),
    ("localhost:5000/jupyterlab:sha-1a2b3c4d5e6f", "sha-1a2b3c4d5e6f"),
    ("localhost:5000/jupyterlab", None),
    ("lab.azurecr.io/dask-worker:main", None),
    ("lab.azurecr.io/dask-worker:sha-1a2b3c4@sha256:" + "0" * 64, "sha-1a2b3c4"),
    ("lab.azurecr.io/dask-worker@sha256:" + "0" * 64, None),
    (versions.DASK_WORKER_IMAGE, None),
    ("quay.io/x/y:sha-xyz", None),
])
def test_build_of_reads_the_sha_tag(image: str, build: str | None) -> None:
    assert build_of(image) == build


def _validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], **images: str) -> str:
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    document["default_images"] = {**document.get("default_images", {}), **images}
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["validate", "--no-cache", "--config", str(path)]) == 0
    return capsys.readouterr().err


REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com/qhub-analytics-staging"


def test_validate_warns_when_jupyterlab_and_workers_come_from_different_builds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _validate(tmp_path, capsys, jupyterlab=f"{REGISTRY}/jupyterlab:sha-1a2b3c4",
                    dask_worker=f"{REGISTRY}/dask-worker:sha-9f8e7d6")
    assert "default_images.jupyterlab:" in err
    assert "is build sha-1a2b3c4, but default_images.dask_worker is build sha-9f8e7d6" in err
    # A build on one side only is a mix too: the default worker lacks what image/ adds.
    err = _validate(tmp_path, capsys, jupyterlab=f"{REGISTRY}/jupyterlab:sha-1a2b3c4")
    assert "default_images.dask_worker is not one of this project's builds" in err


def test_validate_is_quiet_for_one_build_or_the_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = _validate(tmp_path, capsys, jupyterlab=f"{REGISTRY}/jupyterlab:sha-1a2b3c4",
                     dask_worker=f"{REGISTRY}/dask-worker:sha-1a2b3c4")
    assert "different builds" not in same
    assert "different builds" not in _validate(tmp_path, capsys)


def test_a_profile_image_of_another_build_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    document["default_images"] = {"jupyterlab": f"{REGISTRY}/jupyterlab:sha-1a2b3c4",
                                  "dask_worker": f"{REGISTRY}/dask-worker:sha-1a2b3c4"}
    document["profiles"]["dask_worker"]["Old Worker"] = {"image": f"{REGISTRY}/dask-worker:sha-0000000"}
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["validate", "--no-cache", "--config", str(path)]) == 0
    assert "profiles.dask_worker['Old Worker'].image is build sha-0000000" in capsys.readouterr().err


def test_init_writes_the_image_files_and_keeps_existing_ones(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / IMAGE_DIR / "dask-worker").mkdir(parents=True)
    ours = tmp_path / IMAGE_DIR / "dask-worker" / "requirements.txt"
    ours.write_text("xarray==2025.10.1\n")
    args = ["init", "aws", "--stack", "dev", "--project-name", "lab", "--domain", "lab.example.org",
            "--repository", "example-lab/lab", "--project-dir", str(tmp_path)]
    assert main(args) == 0
    for relative, text in image_files().items():
        if relative != f"{IMAGE_DIR}/dask-worker/requirements.txt":
            assert (tmp_path / relative).read_text() == text, relative
    assert ours.read_text() == "xarray==2025.10.1\n"  # the team's file is theirs
    written = yaml.safe_load((tmp_path / "stacks" / "dev.yaml").read_text())
    assert written["ci_cd"]["repository"] == "example-lab/lab"


def test_the_repository_must_be_one_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "staging.yaml").read_text())
    for wildcard in ("example-lab/*", "*", "example-lab"):
        document["ci_cd"]["repository"] = wildcard
        path = tmp_path / "stack.yaml"
        path.write_text(yaml.safe_dump(document))
        assert main(["validate", "--no-cache", "--config", str(path)]) == 1
        assert "ci_cd.repository" in capsys.readouterr().err
