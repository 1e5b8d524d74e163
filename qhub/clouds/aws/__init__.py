"""AWS: an EKS cluster in its own VPC, with EFS shared storage, ECR and cluster-autoscaler.

The only package that imports `pulumi_aws`. `build(name, config)` returns the uniform
ClusterOutputs; the modules here each create one part (see their docstrings):
provider, network, iam, eks, nodegroups, addons, autoscaler, efs, disks, ecr, ci_push, kubeconfig, cluster.
"""

from __future__ import annotations

import pulumi

from qhub.clouds.aws.cluster import AwsCluster
from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.providers.aws import AmazonWebServices
from qhub.images import push_trust

# The SDK modules this cloud creates resources from (see qhub/clouds/__init__.py).
SDK_MODULES: tuple[str, ...] = (
    "pulumi_aws.autoscaling",
    "pulumi_aws.dlm",
    "pulumi_aws.ebs",
    "pulumi_aws.ec2",
    "pulumi_aws.ecr",
    "pulumi_aws.efs",
    "pulumi_aws.eks",
    "pulumi_aws.iam",
    "pulumi_aws.vpc",
)



def build(name: str, config: QHubConfig) -> ClusterOutputs:
    """Create the AWS cluster of the config and describe it for the platform layer."""
    block = config.cloud
    if not isinstance(block, AmazonWebServices):
        raise TypeError(f"qhub.clouds.aws needs an amazon_web_services block, not {type(block).__name__}")
    stack = pulumi.get_stack()
    return AwsCluster(name, config.project_name, stack, block, production=config.is_production(stack),
                      volumes=config.storage, backups=config.backups,
                      push=push_trust(config.ci_cd)).outputs
