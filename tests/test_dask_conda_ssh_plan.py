"""Layer II planned on its own (tests/programs/layer2.py): objects valid, wiring and protection right."""

from __future__ import annotations

import base64
import functools
import gzip
import json
from pathlib import Path

import pytest

from qhub.offline.engine import Plan, plan_program
from qhub.values import conda_store_config
from tests.conftest import COMPAT_CONFIGS, ROOT
from tests.support.conformance import resource_problems
from tests.support.kubernetes_schema import SchemaError, manifest_of, validate

PROGRAM = Path(__file__).parent / "programs" / "layer2.py"
CONFIGS = [ROOT / "stacks" / "staging.yaml", ROOT / "stacks" / "prod.yaml", *COMPAT_CONFIGS]


@functools.cache
def _plan(path: Path) -> Plan:
    return plan_program(path, "dev", "aws", program=PROGRAM)


def _by_name(plan: Plan) -> dict:
    # A random password and the Kubernetes Secret holding it may share a logical name (their
    # URNs differ by type); the Kubernetes object is the one these tests look at.
    return {r.name: r for r in sorted(plan.resources, key=lambda r: r.type.startswith("kubernetes:"))}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_objects_valid_and_conformant(path: Path) -> None:
    failures = []
    for resource in _plan(path).resources:
        if not resource.custom:
            continue
        failures += [f"{resource.name}: {p}" for p in resource_problems(resource.type, resource.inputs)]
        if resource.type.startswith("kubernetes:") and "helm.sh" not in resource.type and "providers" not in resource.type:
            try:
                validate(manifest_of(resource.inputs))
            except SchemaError as error:
                failures.append(f"{resource.name}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_components_children_parent_and_provider(path: Path) -> None:
    plan = _plan(path)
    components = {r.urn: r for r in plan.resources if r.type.startswith("qhub:platform:")}
    assert {r.type for r in components.values()} == {"qhub:platform:CondaStore", "qhub:platform:DaskGateway", "qhub:platform:Ssh"}
    for resource in plan.resources:
        if resource.parent in components:
            parent = components[resource.parent]
            assert resource.name.startswith(parent.name + "-")
            if resource.type.startswith("kubernetes:"):
                assert resource.provider and "layer2-k8s" in resource.provider


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_no_secret_in_values_or_plain_inputs(path: Path) -> None:
    plan = _plan(path)
    resources = _by_name(plan)
    release = resources["layer2-dask-gateway-release"]
    text = json.dumps(release.inputs)
    assert "[secret]" not in text and "apiToken\"" not in text
    for secret in ("layer2-dask-gateway-token", "layer2-conda-store-secrets", "layer2-ssh-secret"):
        assert resources[secret].inputs["stringData"] == "[secret]", secret
    for resource in plan.resources:  # generated secret values never show in plain inputs
        assert "offline-" not in json.dumps(resource.inputs), resource.name


def test_conda_store_storage_protected_and_sized() -> None:
    plan = _plan(ROOT / "stacks" / "staging.yaml")
    claim = _by_name(plan)["layer2-conda-store-storage"]
    assert claim.protect and claim.retain_on_delete
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert claim.inputs["spec"]["storageClassName"] == "gp3"


def test_environments_reach_conda_store_and_pods() -> None:
    plan = _plan(ROOT / "stacks" / "staging.yaml")
    resources = _by_name(plan)
    files = resources["layer2-conda-store-environments"].inputs["data"]
    assert set(files) == {"environment-default.yaml", "environment-ml.yaml"}
    assert "lightgbm==4.6.0" in files["environment-ml.yaml"]
    packed = resources["layer2-conda-store-config"].inputs["binaryData"][conda_store_config.SETTINGS_KEY]
    settings = json.loads(gzip.decompress(base64.b64decode(packed)))
    assert settings["watch_paths"] == ["/opt/environments"]
    worker = next(c for c in resources["layer2-conda-store-deployment"].inputs["spec"]["template"]["spec"]["containers"] if c["name"] == "worker")
    assert {"name": "environments", "mountPath": "/opt/environments", "readOnly": True} in worker["volumeMounts"]
    gateway_env = resources["layer2-dask-gateway-release"].inputs["values"]["gateway"]["env"][0]["value"]
    assert set(json.loads(gateway_env)["environments"]) == {"default", "ml"}
    kernels = resources["layer2-conda-store-kernels"].inputs["data"]
    assert set(kernels) == {"default.json", "ml.json"}


def test_environment_share_is_read_only_nfs_on_cluster_ip() -> None:
    resources = _by_name(_plan(ROOT / "stacks" / "staging.yaml"))
    volume = resources["layer2-conda-store-environments-volume"].inputs["spec"]
    assert volume["accessModes"] == ["ReadWriteMany"] and volume["nfs"]["readOnly"] is True
    assert volume["nfs"]["server"].startswith("10.100.")
    assert volume["persistentVolumeReclaimPolicy"] == "Retain"


def test_ssh_exposed_on_a_load_balancer_and_outputs() -> None:
    plan = _plan(ROOT / "stacks" / "staging.yaml")
    service = _by_name(plan)["layer2-ssh-service"].inputs
    assert service["spec"]["type"] == "LoadBalancer"
    # Port 22 only: no SFTP (qhub/platform/ssh.py says why).
    assert {p["port"] for p in service["spec"]["ports"]} == {22}
    assert plan.outputs["ssh_command"].startswith("ssh -p 22 <jupyterhub-user>@")
    assert plan.outputs["dask_gateway_address"] == "https://staging.jupyter.example-lab.org/services/dask-gateway"
    assert plan.outputs["conda_store_url"] == "https://staging.jupyter.example-lab.org/conda-store"
