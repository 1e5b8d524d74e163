"""The kubeconfig of an EKS cluster and the Kubernetes provider made from it.

Creates: one `pulumi_kubernetes.Provider`. The kubeconfig authenticates with `aws eks get-token`,
so it holds no credential of its own; it is still a secret Output because it names the endpoint.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s


def kubeconfig_document(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig (JSON, which kubectl reads as YAML) using the AWS CLI as exec credential."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [{"name": cluster_name, "user": user}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
    })


def kubeconfig(
    cluster_name: pulumi.Input[str], endpoint: pulumi.Input[str], ca_data: pulumi.Input[str], region: str
) -> pulumi.Output[str]:
    """`kubeconfig_document` over the cluster's Outputs, as a secret."""
    document = pulumi.Output.all(cluster_name, endpoint, ca_data).apply(
        lambda values: kubeconfig_document(str(values[0]), str(values[1]), str(values[2]), region)
    )
    return pulumi.Output.secret(document)


def make_k8s_provider(name: str, config: pulumi.Output[str], parent: pulumi.Resource) -> k8s.Provider:
    """The provider every Kubernetes resource on this cluster must be given explicitly."""
    return k8s.Provider(
        name,
        kubeconfig=config,
        # Never fall back to whatever cluster the ambient kubeconfig points at.
        delete_unreachable=False,
        opts=pulumi.ResourceOptions(parent=parent),
    )
