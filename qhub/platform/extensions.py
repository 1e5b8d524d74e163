"""Extensions: the Helm charts of `helm_extensions`, installed after the platform's own releases.

Creates, under one `qhub:platform:Extensions`: a Namespace for each namespace other than the
stack's that an entry names (the stack owns it, so removing its last entry deletes it); one
pinned `helm.v3.Release` per entry (the repository's chart at its exact version, or the oci://
reference), with the entry's overrides as values and each `secret_overrides` path set from the
stack's Pulumi config secret of that name. Entries with a `route` give the Routes the platform's
Ingresses serve (a minion per route, in the entry's namespace).

Removing an entry uninstalls its release (`qhub diff` says so). The charts' own objects are
theirs: they are not in the shared chart sources, so the tests check the releases' inputs, not
what the charts render.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from qhub.cluster import ClusterOutputs
from qhub.config import QHubConfig
from qhub.config.extensions import HelmExtension
from qhub.helm import release
from qhub.values.extensions import extension_values
from qhub.values.routes import Route
from qhub.versions import Chart

EXTENSION_LABEL = "qhub.dev/extension"
"""Label of the namespaces created for extensions, naming the entry that asked first."""


def _secret(key: str, extension: str, parent: pulumi.Resource) -> pulumi.Output[Any]:
    """A secret of the stack's Pulumi config; a missing one warns in a preview and stops an update."""
    value = pulumi.Config("qhub").get_secret(key)
    if value is not None:
        return value
    message = f"helm_extensions {extension} needs a secret: pulumi config set --secret qhub:{key} <value>"
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(message)
    pulumi.log.warn(message, parent)
    return pulumi.Output.secret("")


class Extensions(pulumi.ComponentResource):
    """The admin's extra Helm releases of one stack."""

    routes: list[Route]
    """Paths of the domain served by extensions, for the platform's Ingresses."""
    releases: dict[str, k8s.helm.v3.Release]
    """The releases by entry name."""
    namespaces: dict[str, k8s.core.v1.Namespace]
    """The namespaces created for extensions, by name."""
    summary: dict[str, str]
    """Each release: chart, version, repository and namespace (the `helm_extensions` output)."""

    def __init__(self, name: str, config: QHubConfig, cluster: ClusterOutputs, *,
                 after: Sequence[pulumi.Resource], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("qhub:platform:Extensions", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider, depends_on=list(cluster.ready))
        namespaces: dict[str, k8s.core.v1.Namespace] = {}
        for extension in config.helm_extensions:
            namespace = extension.namespace or config.namespace
            if namespace != config.namespace and namespace not in namespaces:
                namespaces[namespace] = k8s.core.v1.Namespace(
                    f"{name}-namespace-{namespace}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels={
                        "app.kubernetes.io/part-of": "qhub", EXTENSION_LABEL: extension.name}),
                    opts=k8s_opts,
                )
        self.releases = {}
        self.routes = []
        for extension in config.helm_extensions:
            namespace = extension.namespace or config.namespace
            # After the platform's own releases (the order), and in a namespace that exists.
            depends = [*after, *([namespaces[namespace]] if namespace in namespaces else [])]
            self.releases[extension.name] = release(
                f"{name}-{extension.name}",
                Chart(extension.chart, extension.version, extension.repository),
                extension.name,
                namespace,
                self._values(extension),
                pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=depends)),
            )
            if extension.route is not None:
                self.routes.append(Route(
                    path=extension.route.path, service=extension.route.service, port=extension.route.port,
                    websocket=extension.route.websocket, namespace=namespace, name=f"ext-{extension.name}",
                ))
        self.namespaces = namespaces
        # What `qhub plan` and the stack outputs list: each release, its chart and where it runs.
        self.summary = {
            extension.name: f"{extension.chart} {extension.version} from {extension.repository} in {extension.namespace or config.namespace}"
            for extension in config.helm_extensions
        }
        self.register_outputs({"releases": self.summary})

    def namespace_opts(self, manifest: dict[str, Any]) -> pulumi.ResourceOptions:
        """Options of an object of the platform in an extension's namespace: after that namespace."""
        created = self.namespaces.get(manifest["metadata"]["namespace"])
        return pulumi.ResourceOptions(depends_on=[created] if created else [])

    def _values(self, extension: HelmExtension) -> dict[str, Any]:
        """The entry's values: its overrides, with each secret from the stack's config set in as a
        secret Output, so only those values are secret in the state and the plan, not the rest."""
        secrets = {path: _secret(key, extension.name, self) for path, key in extension.secret_overrides.items()}
        return extension_values(extension.overrides, secrets)
