"""Mock answers of the AWS provider: ids, ARNs, endpoints and invokes as AWS gives them.

Account 123456789012; the region is the one the stack's `pulumi:providers:aws` was given (the
provider registers before anything that uses it), us-west-2 until then.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from qhub.offline.mocks import fake_id

ACCOUNT = "123456789012"
DEPLOYER_ROLE = "qhub-deployer"
_state = {"region": "us-west-2"}

# GPUs per size of the NVIDIA families the tests use (EC2 DescribeInstanceTypes).
_GPU_COUNTS = {
    "g4dn": {"12xlarge": 4, "metal": 8},
    "g5": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "p3": {"8xlarge": 4, "16xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
}
_GPU_FAMILY = re.compile(r"^(g4dn|g5g?|g6e?|g6f|gr6|p3|p4d|p5)\.")
_ARM_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")


def _region() -> str:
    return _state["region"]


def _hex(name: str, length: int) -> str:
    return fake_id(name, length)


def _provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    _state["region"] = str(inputs.get("region") or "us-west-2")
    return {}


def _prefixed(prefix: str) -> Any:
    """Outputs of an EC2 resource whose id is `<prefix>-<17 hex>`."""
    def outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        resource_id = f"{prefix}-0{_hex(name, 16)}"
        return {"__id": resource_id, "arn": f"arn:aws:ec2:{_region()}:{ACCOUNT}:{prefix}/{resource_id}", "ownerId": ACCOUNT}
    return outputs


def _vpc(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    vpc_id = f"vpc-0{_hex(name, 16)}"
    return {
        "__id": vpc_id, "arn": f"arn:aws:ec2:{_region()}:{ACCOUNT}:vpc/{vpc_id}",
        "defaultSecurityGroupId": f"sg-0{_hex(name + 'sg', 16)}", "mainRouteTableId": f"rtb-0{_hex(name + 'rt', 16)}",
        "ownerId": ACCOUNT,
    }


def _eip(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    allocation = f"eipalloc-0{_hex(name, 16)}"
    number = int(_hex(name, 4), 16)
    return {"__id": allocation, "allocationId": allocation, "publicIp": f"203.0.113.{number % 254 + 1}", "domain": "vpc"}


def _named(name: str, inputs: dict[str, Any]) -> str:
    """The resource's name at AWS: given, or autonamed as Pulumi does (logical name + suffix)."""
    return str(inputs.get("name") or f"{name}-{_hex(name, 7)}")


def _role(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    role_name = _named(name, inputs)
    return {
        "__id": role_name, "name": role_name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
        "uniqueId": "AROA" + _hex(name, 17).upper(),
    }


def _eks_cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster_name = _named(name, inputs)
    oidc_id = _hex(name, 32).upper()
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{_hex(name, 64)}\n-----END CERTIFICATE-----\n".encode()).decode()
    vpc_config = dict(inputs.get("vpcConfig") or {})
    vpc_config.update({
        "clusterSecurityGroupId": f"sg-0{_hex(name + 'cluster', 16)}",
        "vpcId": f"vpc-0{_hex(name + 'vpc', 16)}",
    })
    return {
        "__id": cluster_name,
        "name": cluster_name,
        "arn": f"arn:aws:eks:{_region()}:{ACCOUNT}:cluster/{cluster_name}",
        "endpoint": f"https://{oidc_id}.gr7.{_region()}.eks.amazonaws.com",
        "certificateAuthority": {"data": ca},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{_region()}.amazonaws.com/id/{oidc_id}"}]}],
        "vpcConfig": vpc_config,
        "platformVersion": "eks.1",
        "status": "ACTIVE",
    }


def _oidc_provider(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    url = str(inputs.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}"
    return {"__id": arn, "arn": arn}


def _node_group(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    group_name = str(inputs.get("nodeGroupName") or f"{name}-{_hex(name, 7)}")
    uuid = _hex(name, 8) + "-" + _hex(name + "a", 4) + "-" + _hex(name + "b", 4) + "-" + _hex(name + "c", 4) + "-" + _hex(name + "d", 12)
    cluster = inputs.get("clusterName", "cluster")
    return {
        "__id": f"{cluster}:{group_name}",
        "nodeGroupName": group_name,
        "arn": f"arn:aws:eks:{_region()}:{ACCOUNT}:nodegroup/{cluster}/{group_name}/{uuid}",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group_name}-{uuid}"}], "remoteAccessSecurityGroupId": ""}],
        "status": "ACTIVE",
    }


def _addon(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster, addon = inputs.get("clusterName", "cluster"), inputs.get("addonName", name)
    return {
        "__id": f"{cluster}:{addon}",
        "arn": f"arn:aws:eks:{_region()}:{ACCOUNT}:addon/{cluster}/{addon}/{_hex(name, 8)}",
    }


def _access_entry(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster = inputs.get("clusterName", "cluster")
    return {
        "__id": f"{cluster}:{inputs.get('principalArn', '')}",
        "accessEntryArn": f"arn:aws:eks:{_region()}:{ACCOUNT}:access-entry/{cluster}/role/{ACCOUNT}/{DEPLOYER_ROLE}/{_hex(name, 8)}",
    }


def _file_system(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    fs_id = f"fs-0{_hex(name, 16)}"
    return {
        "__id": fs_id, "arn": f"arn:aws:elasticfilesystem:{_region()}:{ACCOUNT}:file-system/{fs_id}",
        "dnsName": f"{fs_id}.efs.{_region()}.amazonaws.com", "ownerId": ACCOUNT,
    }


def _mount_target(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    number = int(_hex(name, 4), 16)
    return {
        "__id": f"fsmt-0{_hex(name, 16)}", "ipAddress": f"10.10.{number % 200}.{number % 250 + 4}",
        "networkInterfaceId": f"eni-0{_hex(name, 16)}",
    }


def _repository(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    repo = _named(name, inputs)
    return {
        "__id": repo, "arn": f"arn:aws:ecr:{_region()}:{ACCOUNT}:repository/{repo}", "registryId": ACCOUNT,
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{_region()}.amazonaws.com/{repo}",
    }


def _github_oidc_provider(args: dict[str, Any]) -> dict[str, Any]:
    url = str(args.get("url", "")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url}"
    return {"id": arn, "arn": arn, "url": url, "clientIdLists": ["sts.amazonaws.com"], "thumbprintLists": [], "tags": {}}


def _volume(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    volume = f"vol-0{_hex(name, 16)}"
    return {"__id": volume, "arn": f"arn:aws:ec2:{_region()}:{ACCOUNT}:volume/{volume}", "iops": 3000, "throughput": 125}


def _lifecycle_policy(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    policy = f"policy-0{_hex(name, 16)}"
    return {"__id": policy, "arn": f"arn:aws:dlm:{_region()}:{ACCOUNT}:policy/{policy}"}


def _subnet(args: dict[str, Any]) -> dict[str, Any]:
    subnet = str(args.get("id", "subnet-0"))
    return {"id": subnet, "availabilityZone": f"{_region()}a", "availabilityZoneId": "usw2-az1", "vpcId": "vpc-0existing",
            "cidrBlock": "10.0.0.0/19", "arn": f"arn:aws:ec2:{_region()}:{ACCOUNT}:subnet/{subnet}"}


def _instance_type(args: dict[str, Any]) -> dict[str, Any]:
    instance = str(args.get("instanceType", ""))
    family, _, size = instance.partition(".")
    gpus: list[dict[str, Any]] = []
    if _GPU_FAMILY.match(instance):
        gpus = [{"count": _GPU_COUNTS.get(family, {}).get(size, 1), "manufacturer": "NVIDIA", "name": "A10G", "memorySize": 24576}]
    arch = ["arm64"] if _ARM_FAMILY.match(instance) else ["i386", "x86_64"] if instance.startswith(("t2", "m4", "c4")) else ["x86_64"]
    return {"id": instance, "instanceType": instance, "supportedArchitectures": arch, "gpuses": gpus}


_ADDON_DEFAULTS = {
    "vpc-cni": "v1.20.4-eksbuild.2",
    "kube-proxy": "v{minor}.0-eksbuild.1",
    "coredns": "v1.12.4-eksbuild.1",
    "aws-ebs-csi-driver": "v1.52.1-eksbuild.1",
}


def _addon_version(args: dict[str, Any]) -> dict[str, Any]:
    addon, minor = str(args["addonName"]), str(args["kubernetesVersion"])
    version = _ADDON_DEFAULTS.get(addon, "v1.0.0-eksbuild.1").format(minor=minor)
    return {"id": addon, "addonName": addon, "kubernetesVersion": minor, "version": version}


def _zones(args: dict[str, Any]) -> dict[str, Any]:
    names = [f"{_region()}{letter}" for letter in "abcd"]
    return {"id": _region(), "names": names, "zoneIds": [f"usw2-az{i + 1}" for i in range(len(names))], "groupNames": [_region()]}


# Route 53's hosted zone ids of network load balancers per region (the AWS general reference's table).
_NLB_ZONES = {"us-east-1": "Z26RNL4JYFTOTI", "us-west-2": "Z18D5FSROUN65G", "eu-central-1": "Z3F0SRJ5LGBH90", "eu-west-1": "Z2IFOLAFXWLO4F"}


def _hosted_zone(args: dict[str, Any]) -> dict[str, Any]:
    """route53.get_zone: a public zone of that name, with Route 53's id form."""
    name = str(args.get("name") or "example.org").rstrip(".")
    zone_id = "Z" + _hex(name, 20).upper()
    return {"id": zone_id, "zoneId": zone_id, "name": name, "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
            "privateZone": False, "resourceRecordSetCount": 2, "callerReference": _hex(name, 12),
            "nameServers": [f"ns-{n}.awsdns-{n:02d}.org" for n in (101, 202, 303, 404)], "comment": "", "tags": {}}


def _balancer_zone(args: dict[str, Any]) -> dict[str, Any]:
    region = str(args.get("region") or _region())
    return {"id": _NLB_ZONES.get(region, "Z" + _hex(region, 13).upper()), "region": region, "loadBalancerType": args.get("loadBalancerType")}


def _record(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"__id": f"{inputs.get('zoneId')}_{inputs.get('name')}_{inputs.get('type')}", "fqdn": inputs.get("name")}


RESOURCES = {
    "pulumi:providers:aws": _provider,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _prefixed("subnet"),
    "aws:ec2/internetGateway:InternetGateway": _prefixed("igw"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _prefixed("nat"),
    "aws:ec2/routeTable:RouteTable": _prefixed("rtb"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda name, inputs: {"__id": f"rtbassoc-0{_hex(name, 16)}"},
    "aws:ec2/securityGroup:SecurityGroup": _prefixed("sg"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _prefixed("sgr"),
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": lambda name, inputs: {"__id": f"{inputs.get('role', 'role')}:{name}", "name": name},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda name, inputs: {"__id": f"{name}-{_hex(name, 20)}"},
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/accessEntry:AccessEntry": _access_entry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda name, inputs: {"associatedAt": "2026-11-23T10:00:00Z"},
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/addon:Addon": _addon,
    "aws:autoscaling/tag:Tag": lambda name, inputs: {},
    "aws:efs/fileSystem:FileSystem": _file_system,
    "aws:ebs/volume:Volume": _volume,
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": _lifecycle_policy,
    "aws:efs/mountTarget:MountTarget": _mount_target,
    "aws:efs/backupPolicy:BackupPolicy": lambda name, inputs: {"__id": inputs.get("fileSystemId", name)},
    "aws:ecr/repository:Repository": _repository,
    "aws:route53/record:Record": _record,
}

CALLS = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:index/getPartition:getPartition": lambda args: {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args: {
        "id": ACCOUNT, "accountId": ACCOUNT, "userId": "AROAEXAMPLEDEPLOYER:ci-session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{DEPLOYER_ROLE}/ci-session",
    },
    "aws:iam/getSessionContext:getSessionContext": lambda args: {
        "id": args.get("arn", ""), "arn": args.get("arn", ""), "issuerArn": f"arn:aws:iam::{ACCOUNT}:role/{DEPLOYER_ROLE}",
        "issuerId": "AROAEXAMPLEDEPLOYER", "issuerName": DEPLOYER_ROLE, "sessionName": "ci-session",
    },
    "aws:eks/getAddonVersion:getAddonVersion": _addon_version,
    "aws:ec2/getInstanceType:getInstanceType": _instance_type,
    "aws:ec2/getSubnet:getSubnet": _subnet,
    # GitHub's OIDC provider, created once per account (docs/ci-cd.md).
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": _github_oidc_provider,
    "aws:route53/getZone:getZone": _hosted_zone,
    "aws:lb/getHostedZoneId:getHostedZoneId": _balancer_zone,
}
