"""The config model beyond the fixture files: compat configs, aliases, defaults, patterns,
robustness against any input, and the import boundary."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qhub.cli.schema import schema
from qhub.config import ConfigError, load_file, parse_config
from qhub.config.providers.aws import AwsNodeGroup
from qhub.config.providers.azure import AzureNodeGroup
from qhub.config.providers.digitalocean import DigitalOceanNodeGroup
from qhub.config.providers.gcp import GcpNodeGroup
from tests.conftest import COMPAT_CONFIGS, ROOT

HAPPY = Path(__file__).parent / "fixtures" / "configs" / "aws.happy.yaml"


@pytest.mark.parametrize("path", COMPAT_CONFIGS, ids=lambda p: p.name)
def test_compat_configs_validate(path: Path) -> None:
    loaded = load_file(path)
    assert loaded.config.project_name
    # Every group of the file arrives, with the seed's misspellings mapped.
    for profile in loaded.config.profiles.jupyterlab:
        assert "cpu_guarentee" not in profile.kubespawner_override
        assert "cpu_guarantee" in profile.kubespawner_override


def test_compat_configs_are_present() -> None:
    assert len(COMPAT_CONFIGS) == 5


def test_seed_misspellings_are_aliases() -> None:
    config = load_file(HAPPY).config
    assert config.storage.shared_filesystem == "10Gi"
    override = config.profiles.jupyterlab[0].kubespawner_override
    assert override["cpu_guarantee"] == 1 and override["mem_guarantee"] == "1G"


def test_minimal_config_gets_defaults() -> None:
    loaded = parse_config({
        "project_name": "tiny", "provider": "do", "domain": "tiny.example.org",
        "security": {"authentication": {"type": "password"}},
        "digital_ocean": {"region": "fra1", "node_groups": {
            name: {"instance": "s-2vcpu-4gb"} for name in ("general", "user", "worker")}},
    })
    config = loaded.config
    assert config.namespace == "dev"
    assert config.ci_cd.type == "github-actions" and config.ci_cd.branch == "main"
    assert config.certificate.type == "lets-encrypt"
    assert config.storage.conda_store == "60Gi" and config.storage.shared_filesystem == "100Gi"
    assert sum(p.default for p in config.profiles.jupyterlab) == 1
    assert config.profiles.dask_worker
    assert config.digital_ocean is not None and config.digital_ocean.node_groups["user"].min_nodes == 0
    assert any(w.path == "security.users" for w in loaded.warnings)


def test_ci_cd_accepts_string_and_mapping() -> None:
    document = yaml.safe_load(HAPPY.read_text())
    document["ci_cd"] = {"type": "github-actions", "branch": "release"}
    assert parse_config(document).config.ci_cd.branch == "release"
    document["ci_cd"] = "none"
    assert parse_config(document).config.ci_cd.type == "none"


def test_auth0_with_empty_config_is_provisioned() -> None:
    path = next(p for p in COMPAT_CONFIGS if "auth0_provision" in p.name)
    auth = load_file(path).config.security.authentication
    assert auth.type == "Auth0" and auth.config.provisioned  # type: ignore[union-attr]


@pytest.mark.parametrize(("group", "good", "bad"), [
    (AwsNodeGroup, ["m5.large", "g4dn.xlarge", "c7gn.16xlarge", "m7i-flex.large", "u-6tb1.metal", "t3.micro"],
     ["s-2vcpu-4gb", "n1-standard-2", "Standard_D4s_v5", "m5", "large"]),
    (GcpNodeGroup, ["n1-standard-2", "e2-medium", "a2-highgpu-1g", "custom-4-16384", "n2-custom-8-32768"],
     ["m5.large", "s-2vcpu-4gb", "Standard_D4s_v5"]),
    (DigitalOceanNodeGroup, ["s-2vcpu-4gb", "m6-2vcpu-16gb", "c-4", "gpu-h100x1-80gb", "so1_5-2vcpu-16gb", "s-4vcpu-8gb-amd"],
     ["m5.large", "n1-standard-2", "Standard_D4s_v5"]),
    (AzureNodeGroup, ["Standard_D4s_v5", "Standard_NC4as_T4_v3", "Standard_E8-4ds_v5"],
     ["m5.large", "s-2vcpu-4gb", "n1-standard-2", "standard_d4s_v5"]),
])
def test_instance_types_belong_to_their_cloud(group: type, good: list[str], bad: list[str]) -> None:
    for instance in good:
        group.model_validate({"instance": instance})
    for instance in bad:
        with pytest.raises(ValueError, match="is not a machine type of"):
            group.model_validate({"instance": instance})


def test_gpu_groups_by_flag_or_instance_family() -> None:
    assert AwsNodeGroup.model_validate({"instance": "g5.xlarge"}).is_gpu
    assert AwsNodeGroup.model_validate({"instance": "m5.large", "gpu": True}).is_gpu
    assert not AwsNodeGroup.model_validate({"instance": "m5.large"}).is_gpu
    assert AzureNodeGroup.model_validate({"instance": "Standard_NC4as_T4_v3"}).is_gpu
    assert DigitalOceanNodeGroup.model_validate({"instance": "gpu-h100x1-80gb"}).is_gpu
    assert GcpNodeGroup.model_validate({"instance": "n1-standard-4", "guest_accelerators": [{"type": "nvidia-tesla-t4"}]}).is_gpu


@pytest.mark.parametrize(("model", "nvidia", "amd"), [
    (AwsNodeGroup, ["g4dn.xlarge", "g5.xlarge", "p5.48xlarge"], ["g4ad.xlarge"]),
    (DigitalOceanNodeGroup, ["gpu-h100x1-80gb", "gpu-l40sx1-48gb", "gpu-4000adax1-20gb"], ["gpu-mi300x1-192gb"]),
    (AzureNodeGroup, ["Standard_NC4as_T4_v3", "Standard_ND96asr_v4", "Standard_NV36ads_A10_v5"],
     ["Standard_NV8as_v4", "Standard_NV4ads_V710_v5"]),
])
def test_nvidia_machine_types_are_gpu_groups_without_the_flag_and_amd_ones_never(model, nvidia, amd) -> None:
    """The platform schedules nvidia.com/gpu: NVIDIA sizes need no `gpu: true`; AMD sizes are not
    GPU groups, and flagging one is an error rather than GPU pods that never schedule."""
    for instance in nvidia:
        assert model.model_validate({"instance": instance}).is_gpu, instance
    for instance in amd:
        assert not model.model_validate({"instance": instance}).is_gpu, instance
        with pytest.raises(Exception, match="has AMD GPUs; QHub schedules NVIDIA GPUs"):
            model.model_validate({"instance": instance, "gpu": True})


def _mutations(document: object, rng: random.Random) -> object:
    """The document with one random change: a key dropped, a value's type changed, junk added."""
    junk = [None, 0, -1, 2**40, 1.5, "", "x" * 300, [], {}, [1, "a"], {"k": None}, True]
    def walk(node: object, depth: int) -> object:
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
            roll = rng.random()
            if roll < 0.25:
                node.pop(key)
            elif roll < 0.5 or depth > 6:
                node[key] = rng.choice(junk)
            elif roll < 0.55:
                node[rng.choice(["", "zz", "1", "type"])] = rng.choice(junk)
            else:
                node[key] = walk(node[key], depth + 1)
            return node
        if isinstance(node, list) and node:
            index = rng.randrange(len(node))
            node[index] = walk(node[index], depth + 1) if rng.random() < 0.6 else rng.choice(junk)
            return node
        return rng.choice(junk)
    return walk(copy.deepcopy(document), 0)


def test_no_input_gives_anything_but_a_config_error() -> None:
    """Hundreds of damaged documents: each is valid or a ConfigError, never another exception."""
    base = yaml.safe_load(HAPPY.read_text())
    rng = random.Random(20261123)
    for _ in range(400):
        document = _mutations(base, rng)
        try:
            parse_config(document if isinstance(document, dict) else {"document": document})
        except ConfigError as error:
            assert error.issues and all(str(issue) for issue in error.issues)


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "qhub.schema.json").read_text())
    assert committed == schema(), "run `python -m qhub schema -o qhub.schema.json`"


def test_schema_documents_every_field() -> None:
    document = schema()
    for name, definition in document["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"


def test_config_and_cli_do_not_import_pulumi() -> None:
    """validate and --help must stay fast: neither may load Pulumi or a cloud SDK."""
    code = (
        "import sys; from qhub.cli.main import main\n"
        "try:\n    main(['validate', '--config', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi', 'pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native', 'pulumi_digitalocean', 'pulumi_kubernetes', 'google', 'grpc'))\n"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(HAPPY)], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_committed_config_reference_is_current() -> None:
    from qhub.config.reference import markdown

    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert committed == markdown(schema()), "run `python -m qhub schema --markdown -o docs/config-reference.md`"
