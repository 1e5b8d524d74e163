"""What a bare EKS cluster lacks before the platform can run on it.

Creates: the IRSA role of the EBS CSI driver; the EKS managed add-ons vpc-cni, kube-proxy,
coredns and aws-ebs-csi-driver at pinned builds; the encrypted gp3 default StorageClass; and,
when a group has GPUs, the NVIDIA device plugin (Helm) that advertises `nvidia.com/gpu`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from qhub.clouds.aws.iam import irsa_trust_policy, role_with_policies
from qhub.clouds.aws.nodegroups import SPOT_TOLERATION
from qhub.clouds.aws.provider import AccountFacts
from qhub.clouds.common import nvidia_device_plugin
from qhub.versions import EKS_ADDON_VERSIONS, EKS_ADDONS

# The service account the EBS CSI controller runs as (fixed by the add-on).
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
STORAGE_CLASS = "gp3"


def addon_version(
    addon: str, minor: str, provider: aws.Provider, parent: pulumi.Resource
) -> pulumi.Input[str]:
    """The pinned build of an add-on for a cluster minor, else AWS's default build for that minor."""
    pinned = EKS_ADDON_VERSIONS.get(minor, {}).get(addon)
    if pinned is not None:
        return pinned
    return aws.eks.get_addon_version_output(
        addon_name=addon, kubernetes_version=minor, most_recent=False,
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent),
    ).version


def addon_configuration(addon: str, general: Mapping[str, str]) -> str | None:
    """Add-on settings: cluster services (DNS, the CSI controller) run on the general group, and
    the VPC CNI enforces NetworkPolicies (its policy agent is off by default; without it z2jh's
    and QHub's policies would be accepted and ignored)."""
    if addon == "vpc-cni":
        return json.dumps({"enableNetworkPolicy": "true"})
    if addon == "coredns":
        return json.dumps({"nodeSelector": dict(general)})
    if addon == "aws-ebs-csi-driver":
        return json.dumps({"controller": {"nodeSelector": dict(general)}})
    return None


class Addons(pulumi.ComponentResource):
    """Managed add-ons, the default StorageClass and the GPU device plugin."""

    addons: dict[str, aws.eks.Addon]
    """Managed add-on per name."""
    storage_class: k8s.storage.v1.StorageClass
    """The gp3 default StorageClass."""
    device_plugin: k8s.helm.v3.Release | None
    """The NVIDIA device plugin release, when a group has GPUs."""
    ebs_csi_role: aws.iam.Role
    """IRSA role of the EBS CSI controller."""

    def __init__(
        self, name: str, cluster: aws.eks.Cluster, minor: str, facts: AccountFacts,
        oidc_provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str],
        general_selector: Mapping[str, str], has_gpus: bool, after: Sequence[pulumi.Resource],
        provider: aws.Provider, k8s_provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("qhub:aws:Addons", name, None, opts)
        self.ebs_csi_role, attachments = role_with_policies(
            f"{name}-ebs-csi",
            irsa_trust_policy(oidc_provider_arn, issuer_url, EBS_CSI_NAMESPACE, EBS_CSI_SERVICE_ACCOUNT),
            [facts.managed_policy("service-role/AmazonEBSCSIDriverPolicy")],
            provider=provider, parent=self, description="EBS CSI driver (IRSA)",
        )
        self.addons = {}
        for addon in EKS_ADDONS:
            self.addons[addon] = aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=cluster.name,
                addon_name=addon,
                addon_version=addon_version(addon, minor, provider, self),
                configuration_values=addon_configuration(addon, general_selector),
                service_account_role_arn=self.ebs_csi_role.arn if addon == "aws-ebs-csi-driver" else None,
                # EKS bootstraps self-managed vpc-cni, kube-proxy and coredns; the managed add-on takes them over.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                # coredns and the CSI controller only become healthy once nodes exist.
                opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[*after, *attachments]),
            )
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS,
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "fsType": "ext4"},
            # A volume is created in the zone of the node its first pod lands on.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=k8s_provider, depends_on=[self.addons["aws-ebs-csi-driver"]]),
        )
        self.device_plugin = None
        if has_gpus:
            # It must run on spot GPU nodes too, or they advertise no GPU.
            self.device_plugin = nvidia_device_plugin(f"{name}-nvidia-device-plugin", k8s_provider, self, list(after),
                                                      also_tolerate=[SPOT_TOLERATION])
        self.register_outputs({
            "addons": {key: value.addon_version for key, value in self.addons.items()},
            "storage_class": STORAGE_CLASS,
        })
