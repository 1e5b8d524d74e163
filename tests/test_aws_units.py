"""Pure parts of the AWS module: subnet plan, trust policies, kubeconfig, Helm values, node facts."""

from __future__ import annotations

import ipaddress
import json

import pytest

from qhub.clouds.aws.autoscaler import autoscaler_policy, autoscaler_values
from qhub.clouds.aws.iam import irsa_trust_document, service_trust_policy
from qhub.clouds.aws.kubeconfig import kubeconfig_document
from qhub.clouds.aws.network import subnet_cidrs
from qhub.clouds.aws.nodegroups import MachineFacts, ami_type, node_labels, node_template_tags
from qhub.config.providers.aws import AwsNodeGroup
from qhub.versions import CLUSTER_AUTOSCALER_IMAGE_TAGS


@pytest.mark.parametrize("cidr", ["10.10.0.0/16", "172.20.0.0/18", "10.0.0.0/20"])
@pytest.mark.parametrize("zones", [2, 3, 4, 6])
def test_subnets_fit_the_vpc_and_do_not_overlap(cidr: str, zones: int) -> None:
    vpc = ipaddress.ip_network(cidr)
    plan = subnet_cidrs(cidr, zones)
    assert len(plan) == zones
    blocks = [ipaddress.ip_network(block) for pair in plan for block in pair]
    assert all(block.subnet_of(vpc) for block in blocks)  # type: ignore[arg-type]
    for index, block in enumerate(blocks):
        assert not any(block.overlaps(other) for other in blocks[index + 1:])
    private, public = (ipaddress.ip_network(block) for block in plan[0])
    # Pods take VPC addresses, so the private side is the big one.
    assert private.num_addresses > public.num_addresses


def test_irsa_trust_is_bound_to_one_service_account() -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
    document = json.loads(irsa_trust_document(arn, "https://oidc.eks.us-west-2.amazonaws.com/id/ABC", "kube-system", "sa"))
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:kube-system:sa",
        "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }


def test_service_trust_names_only_the_service() -> None:
    (statement,) = json.loads(service_trust_policy("eks.amazonaws.com"))["Statement"]
    assert statement["Principal"] == {"Service": "eks.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"


def test_kubeconfig_uses_aws_eks_get_token() -> None:
    document = json.loads(kubeconfig_document("c", "https://x.gr7.us-west-2.eks.amazonaws.com", "Q0E=", "us-west-2"))
    assert document["current-context"] == "c"
    assert document["clusters"][0]["cluster"] == {"server": "https://x.gr7.us-west-2.eks.amazonaws.com", "certificate-authority-data": "Q0E="}
    exec_ = document["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:4] == ["eks", "get-token", "--cluster-name", "c"]
    assert "--region" in exec_["args"] and "us-west-2" in exec_["args"]
    assert "token" not in document["users"][0]["user"]


def test_autoscaler_may_only_resize_this_clusters_groups() -> None:
    statements = json.loads(autoscaler_policy("lab"))["Statement"]
    mutating = [s for s in statements if any(not a.split(":")[1].startswith(("Describe", "Get")) for a in s["Action"])]
    assert mutating, "the policy lets the autoscaler resize nothing"
    for statement in mutating:
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/lab": "owned"}}


@pytest.mark.parametrize("minor", sorted(CLUSTER_AUTOSCALER_IMAGE_TAGS))
def test_autoscaler_image_matches_the_cluster_minor(minor: str) -> None:
    values = autoscaler_values("lab", "us-west-2", minor, "arn:role", {"qhub.dev/node-group": "general"})
    image = values["image"]
    assert isinstance(image, dict)
    assert image["tag"].startswith(f"v{minor}.")  # type: ignore[index]


def test_autoscaler_on_an_unknown_minor_keeps_the_chart_image() -> None:
    assert "image" not in autoscaler_values("lab", "us-west-2", "1.14", "arn:role", {})


def test_gpu_group_facts() -> None:
    group = AwsNodeGroup(instance="g5.12xlarge", max_nodes=2)
    facts = MachineFacts(arm64=False, gpus=4)
    assert group.is_gpu
    assert ami_type(group, facts) == "AL2023_x86_64_NVIDIA"
    assert node_labels("gpu", group) == {"qhub.dev/node-group": "gpu", "nvidia.com/gpu.present": "true"}
    tags = node_template_tags("gpu", group, facts)
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"] == "present:NoSchedule"
    assert tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == "4"
    assert tags["k8s.io/cluster-autoscaler/node-template/label/qhub.dev/node-group"] == "gpu"


def test_graviton_group_gets_the_arm_ami() -> None:
    group = AwsNodeGroup(instance="m7g.large", max_nodes=2)
    assert ami_type(group, MachineFacts(arm64=True, gpus=0)) == "AL2023_ARM_64_STANDARD"
    assert "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu" not in node_template_tags("x", group, MachineFacts(True, 0))
