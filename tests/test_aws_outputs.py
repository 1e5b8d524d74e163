"""The ClusterOutputs contract of `qhub.clouds.aws.build`, planned without the platform layer.

A stand-in program calls only the AWS module and exports what it returns, so these tests hold
whatever state the platform layer is in.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from qhub.offline.engine import Plan, plan_program
from tests.conftest import FIXTURES

GPU_CONFIG = FIXTURES / "configs" / "aws.happy.gpu.yaml"

PROGRAM = '''
import pathlib
import pulumi
from qhub.clouds.aws import build
from qhub.config import load_file

config = load_file(pathlib.Path(pulumi.Config("qhub").require("configFile"))).config
out = build("lab", config)
pulumi.export("name", out.name)
pulumi.export("node_selectors", {k: dict(v) for k, v in out.node_selectors.items()})
pulumi.export("storage_class", out.storage_class)
pulumi.export("nfs", {"server": out.nfs.server, "path": out.nfs.path} if out.nfs else None)
pulumi.export("registry_url", out.registry_url)
pulumi.export("annotations", dict(out.ingress_service_annotations))
pulumi.export("gpu_node_groups", list(out.gpu_node_groups))
pulumi.export("ready", [r.urn for r in out.ready])
pulumi.export("k8s_provider", out.k8s_provider.urn)
pulumi.export("kubeconfig", out.kubeconfig)
pulumi.export("kubeconfig_document", pulumi.Output.unsecret(out.kubeconfig))
pulumi.export("exports", dict(out.exports))
'''


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    program = tmp_path_factory.mktemp("aws-only") / "__main__.py"
    program.write_text(PROGRAM)
    return plan_program(GPU_CONFIG, "dev", "aws", program=program)


def _out(plan: Plan, key: str) -> Any:
    return plan.outputs[key]


def test_node_selectors_are_the_labels_on_the_groups(plan: Plan) -> None:
    selectors = _out(plan, "node_selectors")
    assert selectors == {g: {"qhub.dev/node-group": g} for g in ("general", "user", "worker", "gpu")}
    for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        name = group.inputs["labels"]["qhub.dev/node-group"]
        assert selectors[name].items() <= group.inputs["labels"].items()
    assert _out(plan, "gpu_node_groups") == ["gpu"]


def test_storage_nfs_registry_and_load_balancer(plan: Plan) -> None:
    assert _out(plan, "storage_class") == "gp3"
    nfs = _out(plan, "nfs")
    assert nfs["path"] == "/" and nfs["server"].startswith("fs-0") and nfs["server"].endswith(".efs.us-east-1.amazonaws.com")
    assert _out(plan, "registry_url") == "123456789012.dkr.ecr.us-east-1.amazonaws.com/lab"
    assert _out(plan, "annotations") == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}


def test_ready_holds_node_groups_and_addons(plan: Plan) -> None:
    ready = set(_out(plan, "ready"))
    for token in ("aws:eks/nodeGroup:NodeGroup", "aws:eks/addon:Addon", "aws:efs/mountTarget:MountTarget"):
        assert {r.urn for r in plan.of_type(token)} <= ready, token
    assert plan.named("lab-addons-nvidia-device-plugin").urn in ready
    assert plan.named("lab-autoscaler-release").urn in ready


def test_kubeconfig_is_a_secret_reaching_the_eks_endpoint(plan: Plan) -> None:
    assert _out(plan, "kubeconfig") == "[secret]"
    document = json.loads(_out(plan, "kubeconfig_document"))
    server = document["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://") and server.endswith(".gr7.us-east-1.eks.amazonaws.com")
    assert document["users"][0]["user"]["exec"]["command"] == "aws"
    provider = plan.by_urn(_out(plan, "k8s_provider"))
    assert provider.type == "pulumi:providers:kubernetes" and provider.inputs["kubeconfig"] == "[secret]"


def test_exports(plan: Plan) -> None:
    exports = _out(plan, "exports")
    assert exports["cluster_name"] == "lab" and exports["region"] == "us-east-1"
    assert set(exports["registry_urls"]) == {"jupyterlab", "dask-worker", "jupyterhub"}

