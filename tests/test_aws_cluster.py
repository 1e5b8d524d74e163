"""The AWS cluster as planned by the offline engine: the two stacks, the qhub-ops compat config
and a four-group GPU config, each planned once (cached in conftest)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from qhub.config import load_file
from qhub.config.load import stack_config_file
from qhub.config.providers.aws import AmazonWebServices
from qhub.offline.engine import Plan, PlannedResource
from qhub.versions import CLUSTER_AUTOSCALER_CHART, EKS_ADDONS, NVIDIA_DEVICE_PLUGIN_CHART
from tests.conftest import COMPAT_CONFIGS, FIXTURES, ROOT, plan_config, plan_stack

GPU_CONFIG = FIXTURES / "configs" / "aws.happy.gpu.yaml"
COMPAT_AWS = [path for path in COMPAT_CONFIGS if path.name == "config_aws.yaml"]

CASES: dict[str, tuple[Path, Callable[[], Plan]]] = {
    "staging": (stack_config_file("staging", ROOT), lambda: plan_stack("staging")),
    "prod": (stack_config_file("prod", ROOT), lambda: plan_stack("prod")),
    "gpu": (GPU_CONFIG, lambda: plan_config(GPU_CONFIG)),
    **{f"compat-{p.stem}": (p, (lambda p=p: plan_config(p))) for p in COMPAT_AWS},
}


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request: pytest.FixtureRequest) -> tuple[AmazonWebServices, Plan]:
    path, plan = CASES[request.param]
    block = load_file(path).config.cloud
    assert isinstance(block, AmazonWebServices)
    return block, plan()


def _descendants(plan: Plan, root: PlannedResource) -> list[PlannedResource]:
    found, frontier = [], [root.urn]
    while frontier:
        urn = frontier.pop()
        for resource in plan.resources:
            if resource.parent == urn:
                found.append(resource)
                frontier.append(resource.urn)
    return found


def _cluster(plan: Plan) -> tuple[PlannedResource, list[PlannedResource]]:
    (root,) = plan.of_type("qhub:aws:Cluster")
    return root, _descendants(plan, root)


def _one(plan: Plan, type_token: str) -> PlannedResource:
    (resource,) = plan.of_type(type_token)
    return resource


def _policy(resource: PlannedResource, key: str = "assumeRolePolicy") -> dict:
    return json.loads(resource.inputs[key])


def test_the_whole_aws_side_is_one_component_tree(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    root, tree = _cluster(plan)
    assert root.parent is None or "pulumi:pulumi:Stack" in root.parent
    components = {r.type for r in tree if not r.custom}
    pushes = {"qhub:aws:ImagePushIdentity"} if "image_push" in plan.outputs else set()  # with ci_cd.repository
    assert components == {
        "qhub:aws:Network", "qhub:aws:ControlPlane", "qhub:aws:NodeGroups", "qhub:aws:Addons",
        "qhub:aws:Autoscaler", "qhub:aws:SharedStorage", "qhub:aws:Disks", "qhub:aws:Registry", *pushes,
    }
    in_tree = {r.urn for r in tree}
    for resource in plan.resources:
        if resource.type.startswith("aws:") or resource.type == "pulumi:providers:aws":
            assert resource.urn in in_tree, resource.name
    for resource in tree:
        parent = plan.by_urn(resource.parent) if resource.parent else None
        assert parent is not None and resource.name.startswith(f"{parent.name}-"), resource.name


def test_every_resource_has_its_explicit_provider(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    aws_provider = _one(plan, "pulumi:providers:aws")
    assert aws_provider.inputs["region"] == block.region
    tags = json.loads(aws_provider.inputs["defaultTags"]) if isinstance(aws_provider.inputs["defaultTags"], str) else aws_provider.inputs["defaultTags"]
    assert set(tags["tags"]) == {"qhub.dev/project", "qhub.dev/stack", "managed-by"}
    _, tree = _cluster(plan)
    (k8s_provider,) = [r for r in tree if r.type == "pulumi:providers:kubernetes"]
    for resource in tree:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            continue
        expected = aws_provider if resource.type.startswith("aws:") else k8s_provider
        assert resource.provider and resource.provider.startswith(expected.urn + "::"), resource.name


def test_subnets_span_two_zones_public_and_private(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    vpc = _one(plan, "aws:ec2/vpc:Vpc")
    assert vpc.inputs["cidrBlock"] == block.vpc_cidr
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    public = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/elb") == "1"]
    assert len(private) + len(public) == len(subnets)
    zones = {s.inputs["availabilityZone"] for s in private}
    assert len(zones) >= 2
    assert zones == {s.inputs["availabilityZone"] for s in public}
    if block.availability_zones:
        assert zones == set(block.availability_zones)
    network = ipaddress.ip_network(block.vpc_cidr)
    for subnet in subnets:
        assert ipaddress.ip_network(subnet.inputs["cidrBlock"]).subnet_of(network)  # type: ignore[arg-type]
        assert not subnet.inputs.get("mapPublicIpOnLaunch")
    nats = plan.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == (len(zones) if block.nat_gateway_per_zone else 1)
    assert len(plan.of_type("aws:ec2/internetGateway:InternetGateway")) == 1


def test_node_groups_match_the_config_and_live_in_private_subnets(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    private = {s.urn for s in subnets if "internal-elb" in json.dumps(s.inputs["tags"])}
    public = {s.urn for s in subnets} - private
    groups = {g.inputs["labels"]["qhub.dev/node-group"]: g for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == set(block.node_groups)
    for name, config in block.node_groups.items():
        group = groups[name]
        assert private <= set(group.dependencies) and not public & set(group.dependencies), name
        assert len(group.inputs["subnetIds"]) == len(private)
        scaling = group.inputs["scalingConfig"]
        assert scaling["minSize"] == config.min_nodes and scaling["maxSize"] == config.max_nodes
        assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"]
        assert scaling["desiredSize"] == config.min_nodes
        assert group.ignore_changes == ["scalingConfig.desiredSize"]
        assert group.inputs["instanceTypes"] == [config.instance]
        assert group.inputs["diskSize"] == config.disk_size_gb
        assert group.inputs["capacityType"] == ("SPOT" if config.spot else "ON_DEMAND")
        assert group.inputs["version"] == block.kubernetes_minor
        gpu = config.is_gpu
        assert group.inputs["amiType"] == ("AL2023_x86_64_NVIDIA" if gpu else "AL2023_x86_64_STANDARD")
        # GPU nodes carry the GPU taint, spot nodes QHub's spot taint (EKS adds none itself), so
        # that pods without a matching toleration (cluster add-ons among them) stay off them;
        # cluster-autoscaler learns each taint of an empty group from its node-template tag.
        expected = [*([("nvidia.com/gpu", "present")] if gpu else []), *([("qhub.dev/spot", "true")] if config.spot else [])]
        assert [(t["key"], t["value"], t["effect"]) for t in group.inputs.get("taints") or []] == [
            (key, value, "NO_SCHEDULE") for key, value in expected]
        template = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in plan.of_type("aws:autoscaling/tag:Tag")
                    if t.name.startswith(f"{group.name}-")}
        prefix = "k8s.io/cluster-autoscaler/node-template"
        assert template[f"{prefix}/label/qhub.dev/node-group"] == name
        assert {k.removeprefix(f"{prefix}/taint/"): v for k, v in template.items() if k.startswith(f"{prefix}/taint/")} == {
            key: f"{value}:NoSchedule" for key, value in expected}
        if gpu:
            assert int(template[f"{prefix}/resources/nvidia.com/gpu"]) >= 1


def test_node_role_has_exactly_the_node_policies(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("-nodes-role"))
    assert _policy(role)["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {a.inputs["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if role.urn in a.dependencies}
    assert attached == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    }


def test_eks_cluster_is_pinned_and_reachable(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    cluster = _one(plan, "aws:eks/cluster:Cluster")
    assert cluster.inputs["version"] == block.kubernetes_version
    vpc_config = cluster.inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] and vpc_config["endpointPrivateAccess"]
    assert vpc_config["publicAccessCidrs"] == block.endpoint_public_access_cidrs
    assert cluster.inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = _one(plan, "aws:eks/accessEntry:AccessEntry")
    assert entry.inputs["principalArn"] == "arn:aws:iam::123456789012:role/qhub-deployer"
    association = _one(plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    oidc = _one(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["url"].startswith(f"https://oidc.eks.{block.region}.amazonaws.com/id/")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def test_addons_are_pinned_and_the_csi_driver_has_its_role(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    addons = {a.inputs["addonName"]: a for a in plan.of_type("aws:eks/addon:Addon")}
    assert set(addons) == set(EKS_ADDONS)
    groups = {g.urn for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")}
    for addon in addons.values():
        assert addon.inputs["addonVersion"].startswith("v") and "-eksbuild." in addon.inputs["addonVersion"]
        assert groups <= set(addon.dependencies)
    csi_role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("-addons-ebs-csi"))
    assert csi_role.urn in addons["aws-ebs-csi-driver"].dependencies
    assert addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"].startswith(f"arn:aws:iam::123456789012:role/{csi_role.name}")
    assert all("serviceAccountRoleArn" not in a.inputs for name, a in addons.items() if name != "aws-ebs-csi-driver")
    storage = _one(plan, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage.inputs["metadata"]["name"] == "gp3"
    assert storage.inputs["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com" and storage.inputs["parameters"]["type"] == "gp3"


def test_irsa_roles_are_bound_to_their_service_accounts(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    oidc = _one(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = oidc.inputs["url"].removeprefix("https://")
    expected = {"ebs-csi": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                "autoscaler": "system:serviceaccount:kube-system:cluster-autoscaler"}
    irsa = [r for r in plan.of_type("aws:iam/role:Role") if "system:serviceaccount:" in json.dumps(_policy(r))]
    assert len(irsa) == 2
    for role in irsa:
        (statement,) = _policy(role)["Statement"]
        assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer}"
        assert oidc.urn in role.dependencies
        subject = statement["Condition"]["StringEquals"][f"{issuer}:sub"]
        key = "ebs-csi" if role.name.endswith("-addons-ebs-csi") else "autoscaler"
        assert subject == expected[key], role.name
        assert statement["Condition"]["StringEquals"][f"{issuer}:aud"] == "sts.amazonaws.com"


def test_cluster_autoscaler_release(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    (release,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == CLUSTER_AUTOSCALER_CHART.name]
    assert release.inputs["version"] == CLUSTER_AUTOSCALER_CHART.version
    assert release.inputs["repositoryOpts"] == {"repo": CLUSTER_AUTOSCALER_CHART.repo}
    values = release.inputs["values"]
    assert values["autoDiscovery"]["clusterName"] == _one(plan, "aws:eks/cluster:Cluster").inputs["name"]
    assert values["awsRegion"] == block.region
    assert values["nodeSelector"] == {"qhub.dev/node-group": "general"}
    service_account = values["rbac"]["serviceAccount"]
    assert service_account["name"] == "cluster-autoscaler" and release.inputs["namespace"] == "kube-system"
    assert service_account["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::123456789012:role/")
    (policy,) = [r for r in plan.of_type("aws:iam/rolePolicy:RolePolicy") if "-image-push" not in r.name]
    scale = [s for s in _policy(policy, "policy")["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]]
    assert scale and all("Condition" in s for s in scale)
    groups = {g.urn for g in plan.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert groups <= set(release.dependencies)


def test_gpu_groups_get_the_device_plugin_only_when_present(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    plugins = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == NVIDIA_DEVICE_PLUGIN_CHART.name]
    has_gpu = any(group.is_gpu for group in block.node_groups.values())
    assert len(plugins) == int(has_gpu)
    for plugin in plugins:
        assert plugin.inputs["version"] == NVIDIA_DEVICE_PLUGIN_CHART.version
        assert plugin.inputs["values"]["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_efs_is_encrypted_backed_up_protected_and_nodes_only(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    fs = _one(plan, "aws:efs/fileSystem:FileSystem")
    assert fs.inputs["encrypted"] is True and fs.protect
    backup = _one(plan, "aws:efs/backupPolicy:BackupPolicy")
    assert backup.inputs["backupPolicy"] == {"status": "ENABLED"} and fs.urn in backup.dependencies
    private = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if "internal-elb" in json.dumps(s.inputs["tags"])]
    targets = plan.of_type("aws:efs/mountTarget:MountTarget")
    assert {s.urn for s in private} == {d for t in targets for d in t.dependencies if d in {s.urn for s in private}}
    assert len(targets) == len(private)
    (rule,) = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (2049, 2049, "tcp")
    assert rule.inputs["referencedSecurityGroupId"].startswith("sg-") and "cidrIpv4" not in rule.inputs


def test_ecr_repositories_are_protected_and_scanned(case: tuple[AmazonWebServices, Plan]) -> None:
    _, plan = case
    repos = plan.of_type("aws:ecr/repository:Repository")
    assert sorted(r.inputs["name"].rsplit("/", 1)[1] for r in repos) == ["dask-worker", "jupyterhub", "jupyterlab"]
    for repo in repos:
        assert repo.protect and repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}


def test_stack_outputs(case: tuple[AmazonWebServices, Plan]) -> None:
    block, plan = case
    assert plan.outputs["kubeconfig"] == "[secret]"
    assert plan.outputs["region"] == block.region
    assert plan.outputs["cluster_name"] == _one(plan, "aws:eks/cluster:Cluster").inputs["name"]
    urls = plan.outputs["registry_urls"]
    assert set(urls) == {"jupyterlab", "dask-worker", "jupyterhub"}
    assert all(url.startswith(f"123456789012.dkr.ecr.{block.region}.amazonaws.com/") for url in urls.values())


def test_zones_come_from_the_region_when_the_config_names_none() -> None:
    plan = plan_config(GPU_CONFIG)
    zones = {s.inputs["availabilityZone"] for s in plan.of_type("aws:ec2/subnet:Subnet")}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}


def test_four_groups_one_gpu() -> None:
    plan = plan_config(GPU_CONFIG)
    assert len(plan.of_type("aws:eks/nodeGroup:NodeGroup")) == 4
    tainted = [g for g in plan.of_type("aws:eks/nodeGroup:NodeGroup") if "nvidia.com/gpu" in json.dumps(g.inputs.get("taints"))]
    assert len(tainted) == 1


@pytest.mark.skipif(not COMPAT_AWS, reason="the shared compat configs are not checked out")
def test_compat_config_keeps_its_old_version() -> None:
    plan = plan_config(COMPAT_AWS[0])
    assert _one(plan, "aws:eks/cluster:Cluster").inputs["version"] == "1.14"
    (release,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == CLUSTER_AUTOSCALER_CHART.name]
    assert "image" not in release.inputs["values"]
