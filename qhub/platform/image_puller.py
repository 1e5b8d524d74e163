"""QHub's image pullers (qhub/values/image_puller.py) as Kubernetes objects.

Creates, per pull set: the DaemonSet that pulls its images onto its node group, and a
NetworkPolicy of the same name that isolates its pods both ways (they only start containers
that exit at once, and a pause container; the kubelet pulls, not the pod).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs, Placement
from qhub.platform.network_policies import network_policy, policy_spec
from qhub.values.image_puller import PullSet, daemon_set, pod_labels


def node_groups(cluster: ClusterOutputs) -> dict[str, Placement]:
    """Every node group by name: its node selector and the tolerations of its taints."""
    return {group: Placement(cluster.selector(group), cluster.tolerations(group)) for group in cluster.node_selectors}


def image_pullers(name: str, pull_sets: Sequence[PullSet], namespace: pulumi.Input[str],
                  opts: pulumi.ResourceOptions) -> list[k8s.apps.v1.DaemonSet]:
    """One DaemonSet and its NetworkPolicy per pull set, named `<name>-<pull set>`."""
    made = []
    for pull in pull_sets:
        manifest = daemon_set(pull)
        metadata = dict(manifest["metadata"], namespace=namespace)
        made.append(k8s.apps.v1.DaemonSet(
            f"{name}-{pull.name}",
            metadata=metadata,  # type: ignore[arg-type]
            spec=manifest["spec"],  # type: ignore[arg-type]
            opts=opts,
        ))
        network_policy(f"{name}-{pull.name}-network-policy", pull.name, namespace,
                       policy_spec({"matchLabels": pod_labels(pull)}, ingress=[], egress=[]), opts)
    return made
