"""Every chart, image and Kubernetes version the program deploys, pinned here and only here.

Sources and the reasons for each choice are in ../shared/research/versions.md; the README's
"Versions" section lists them for users. Nothing here imports Pulumi, so the config model can
use these as defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to one version in one repository."""

    name: str
    version: str
    repo: str


JUPYTERHUB_CHART = Chart("jupyterhub", "4.4.0", "https://hub.jupyter.org/helm-chart/")
DASK_GATEWAY_CHART = Chart("dask-gateway", "2026.3.0", "https://helm.dask.org")
# F5's maintained NGINX Ingress Controller; the community ingress-nginx was retired in March 2026.
NGINX_INGRESS_CHART = Chart("nginx-ingress", "2.6.4", "https://helm.nginx.com/stable")
CERT_MANAGER_CHART = Chart("cert-manager", "v1.21.1", "https://charts.jetstack.io")
CLUSTER_AUTOSCALER_CHART = Chart(
    "cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler"
)
NVIDIA_DEVICE_PLUGIN_CHART = Chart(
    "nvidia-device-plugin", "0.20.0", "https://nvidia.github.io/k8s-device-plugin"
)
# Monitoring (`monitoring.enabled`). kube-prometheus-stack runs with its own grafana,
# kube-state-metrics, node-exporter and windows-exporter dependencies off: Grafana is its own
# release of the standalone chart (the same 12.11.1 the stack would bundle), and the two
# exporters are their own releases at the versions kube-prometheus-stack 88.5.3 pins.
KUBE_PROMETHEUS_STACK_CHART = Chart(
    "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts"
)
GRAFANA_CHART = Chart("grafana", "12.11.1", "https://grafana-community.github.io/helm-charts")
KUBE_STATE_METRICS_CHART = Chart(
    "kube-state-metrics", "8.4.0", "https://prometheus-community.github.io/helm-charts"
)
NODE_EXPORTER_CHART = Chart(
    "prometheus-node-exporter", "4.56.1", "https://prometheus-community.github.io/helm-charts"
)
# The Kubernetes minor new stacks get: in standard support on EKS, GKE and AKS on 2026-11-22.
DEFAULT_KUBERNETES_VERSION = "1.35"
# Minors in standard support per cloud (versions.md §2); older ones validate with a warning.
SUPPORTED_KUBERNETES_MINORS = {
    "aws": ("1.34", "1.35", "1.36"),
    "gcp": ("1.35", "1.36"),
    "azure": ("1.34", "1.35", "1.36", "1.37"),
    "do": ("1.34", "1.35", "1.36"),
}

# Images. The hub image is the one z2jh 4.4.0 ships (JupyterHub 5.5.0, KubeSpawner 7.0.0).
JUPYTERHUB_IMAGE = "quay.io/jupyterhub/k8s-hub:4.4.0"
JUPYTERLAB_IMAGE = "quay.io/jupyter/scipy-notebook:2025-11-17"
DASK_WORKER_IMAGE = "ghcr.io/dask/dask-gateway:2026.3.0"
# What both custom images (image/) install, so a client and its workers agree: the versions
# DASK_WORKER_IMAGE freezes (dask-gateway/Dockerfile.requirements.txt@2026.3.0), and the
# dask-gateway client of the gateway server the chart runs.
DASK_PACKAGES = {"dask": "2026.3.0", "distributed": "2026.3.0", "dask-gateway": "2026.3.0"}
# The Python both base images run (scipy-notebook pins 3.13 in conda-meta/pinned; the dask image
# is python:3.13-slim): pickled tasks need the same minor on both sides.
IMAGE_PYTHON = "3.13"
CONDA_STORE_IMAGE = "quay.io/quansight/conda-store-server:2025.2.2"
# NFSv4 server for clouds without managed NFS (see qhub/platform/nfs_server.py for why not volume-nfs).
NFS_SERVER_IMAGE = "docker.io/openebs/nfs-server-alpine:0.11.0"
BUSYBOX_IMAGE = "docker.io/library/busybox:1.37.0"
# The pause image of QHub's image pullers (qhub/values/image_puller.py): the one z2jh 4.4.0's own
# continuous pre-puller and user placeholders run.
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
# The image of the init container z2jh 4.4.0 adds to every user pod to block the cloud metadata
# server (singleuser.networkTools, the chart's default): set in the values and pre-pulled with
# the profiles' images.
NETWORK_TOOLS_IMAGE = "quay.io/jupyterhub/k8s-network-tools:4.4.0"

# dask-gateway's own server image, at the chart's version (the published chart sets the same tag).
DASK_GATEWAY_SERVER_IMAGE = "ghcr.io/dask/dask-gateway-server:2026.3.0"
# jupyterhub-ssh publishes dev builds only; this is the ssh image of its newest chart build
# (0.0.1-0.dev.git.149.he5107a4). QHub runs it from its own Deployment, and not the chart's sftp
# image, which lets any user into any home: see qhub/platform/ssh.py.
JUPYTERHUB_SSH_IMAGE = "quay.io/jupyterhub-ssh/ssh:0.0.1-0.dev.git.149.he5107a4"

# cluster-autoscaler image per cluster minor: upstream asks for the autoscaler minor that matches
# the cluster's (versions.md §1 note 4). A minor not listed runs the chart's default image.
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
CLUSTER_AUTOSCALER_IMAGE_TAGS = {
    "1.36": "v1.36.1",
    "1.35": "v1.35.2",
    "1.34": "v1.34.5",
    "1.33": "v1.33.6",
    "1.32": "v1.32.7",
    "1.31": "v1.31.5",
}

# EKS managed add-ons every cluster gets, in the order they can be installed.
EKS_ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")
# Add-on builds pinned per cluster minor where AWS's tables name them (versions.md §2). An add-on
# not pinned here gets AWS's *default* build for the cluster minor (DescribeAddonVersions, not the
# newest), resolved at preview time and shown in the plan, so a change is a reviewed diff.
EKS_ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.34": {"kube-proxy": "v1.34.1-eksbuild.2", "coredns": "v1.12.4-eksbuild.1"},
    "1.33": {"coredns": "v1.12.4-eksbuild.1"},
}
