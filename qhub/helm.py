"""One helper: a helm.v3.Release of a chart pinned in qhub/versions.py, for clouds and platform alike."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from qhub.versions import Chart


def release(resource_name: str, chart: Chart, release_name: str, namespace: pulumi.Input[str],
            values: pulumi.Input[dict[str, Any]], opts: pulumi.ResourceOptions, *,
            skip_crds: bool = False, create_namespace: bool = False, timeout: int = 600) -> k8s.helm.v3.Release:
    """A Helm release with a fixed name (no random suffix: other objects refer to its Services).
    A chart in an OCI registry (repo `oci://...`) is named by its full reference, without a repo."""
    oci = chart.repo.startswith("oci://")
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=f"{chart.repo.rstrip('/')}/{chart.name}" if oci else chart.name,
        version=chart.version,
        repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=values,
        skip_crds=skip_crds,
        create_namespace=create_namespace,
        # A failed upgrade rolls back instead of leaving a half-applied release.
        atomic=True,
        cleanup_on_fail=True,
        max_history=10,
        timeout=timeout,
        opts=opts,
    )
