"""The `helm_extensions` list: further Helm charts an admin adds to the stack.

QHub 0.4's and Nebari's shape (`name`, `repository`, `chart`, `version`, `overrides`), so their
files carry over, plus what they lacked: a `namespace`, a `route` under the platform's domain,
and `secret_overrides` that take secret values from the stack's Pulumi config instead of the
committed file. Validation: unique release names that are not the platform's own, exact chart
versions, https or oci repositories, and no obvious secret in `overrides`. No Pulumi import.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from qhub.config.base import Model, Problem, rule_error, rules_error
from qhub.config.errors import quote, shown

PLATFORM_RELEASES = frozenset({
    "qhub-ingress", "cert-manager", "jupyterhub", "dask-gateway", "nvidia-device-plugin", "cluster-autoscaler",
    # monitoring (qhub/platform/monitoring.py)
    "kube-prometheus-stack", "grafana", "kube-state-metrics", "prometheus-node-exporter",
})
"""Helm release names the platform and the clouds install (tests/test_extensions.py checks the
list against every plan); an extension must not take one of them."""

RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
"""Namespaces the cluster owns: the stack creates (and would delete) an extension's namespace."""

RESERVED_PATHS = ("/hub", "/user", "/services", "/conda-store", "/monitoring", "/.well-known")
"""Paths the platform serves under `domain` (JupyterHub, conda-store, Grafana, cert-manager's HTTP-01
challenge); the hub also owns `/` and whatever no other route takes."""

# A Helm release name: a DNS-1123 label of at most 53 characters (Helm's own limit).
_RELEASE_NAME = r"^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$"
_NAMESPACE = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_SERVICE = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
_CHART = r"^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$"
# SemVer 2 as Helm pins it: an optional v, three numbers, optional pre-release and build.
_EXACT_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_REPOSITORY = re.compile(r"^(https://[A-Za-z0-9.-]+(:[0-9]+)?(/[^\s]*)?|oci://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._/-]+)?)$")
_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
# A Pulumi config key in the `qhub` namespace (`pulumi config set --secret qhub:<key>`).
_CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9_]*$"
# A values path as `helm --set` writes it: dot-separated keys, a literal dot escaped as `\.`.
_VALUES_PATH = re.compile(r"^([A-Za-z0-9_-]|\\\.)+(\.([A-Za-z0-9_/-]|\\\.)+)*$")

# Key names (lowercase, without - and _) that end like a secret value's; keys that only refer to a
# Secret (existingSecret, secretName, imagePullSecrets) end otherwise or are excluded below.
_SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey", "privatekey", "accesskey", "credentials")
_REFERENCE_PREFIXES = ("existing", "imagepull", "pullsecret")


def looks_secret(key: str) -> bool:
    """Whether a values key names secret material (a password, token, key) rather than a reference to a Secret."""
    normal = re.sub(r"[-_.]", "", key).lower()
    return normal.endswith(_SECRET_ENDINGS) and not normal.startswith(_REFERENCE_PREFIXES)


def secrets_in(values: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths in `values` that hold a literal secret: a non-empty string under a secret-like key,
    or the `value` of a `{name: SECRET_LIKE, value: ...}` entry (an env list)."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(values, dict):
        name = values.get("name")
        if isinstance(name, str) and looks_secret(name) and isinstance(values.get("value"), str) and values["value"]:
            found.append((*path, "value"))
        for key, value in values.items():
            if isinstance(value, str) and value and looks_secret(str(key)):
                found.append((*path, key))
            elif isinstance(value, (dict, list)):
                found += secrets_in(value, (*path, key))
    elif isinstance(values, list):
        for index, item in enumerate(values):
            found += secrets_in(item, (*path, index))
    return found


def split_values_path(path: str) -> list[str]:
    """The keys of a `helm --set` style path (`ingress.annotations.nginx\\.org/x` -> 3 keys)."""
    return [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", path)]


class ExtensionRoute(Model):
    """A path of the platform's domain served by the extension's Service, through the platform's Ingress."""

    path: str = Field(description="Path prefix, e.g. /podinfo; not /, and not under /hub, /user, /services, /conda-store, /monitoring or /.well-known.")
    service: str = Field(pattern=_SERVICE, description="The Service the chart creates, in the extension's namespace.")
    port: int = Field(ge=1, le=65535, description="The Service's port.")
    websocket: bool = Field(False, description="Forward WebSocket upgrades (NGINX does only for the services it is told).")

    @field_validator("path")
    @classmethod
    def _path_of_its_own(cls, value: str) -> str:
        if not _PATH.match(value):
            raise rule_error("{value!r} is not a path prefix; expected /name (letters, digits, . _ ~ -), not /", value=value)
        for reserved in RESERVED_PATHS:
            if value == reserved or value.startswith(reserved + "/"):
                raise rule_error("{value!r} is served by the platform ({reserved}); choose another prefix", value=value, reserved=reserved)
        return value


class HelmExtension(Model):
    """One more Helm release, installed after the platform's own."""

    name: str = Field(pattern=_RELEASE_NAME, description="The release name (lowercase letters, digits, hyphens; at most 53); unique.")
    repository: str = Field(description="The chart repository: https://... or oci://registry/path.")
    chart: str = Field(pattern=_CHART, description="The chart's name in the repository.")
    version: str = Field(description="The chart's exact version, e.g. 6.9.2 (a range is an error: every deploy installs the same chart).")
    namespace: str | None = Field(None, pattern=_NAMESPACE, description="Namespace of the release; default the stack's `namespace`. Another one is created for it.")
    overrides: dict[str, Any] = Field(default_factory=dict, description="The release's values. Never secrets: use secret_overrides.")
    secret_overrides: dict[str, Annotated[str, Field(pattern=_CONFIG_KEY)]] = Field(
        default_factory=dict,
        description="Values that are secrets, by values path (auth.password) -> a qhub Pulumi config key set with `pulumi config set --secret qhub:<key>`.",
    )
    route: ExtensionRoute | None = Field(None, description="Serve a Service of the release at https://<domain><path>.")

    @field_validator("overrides", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        # QHub 0.4 allowed `overrides:` left empty.
        return {} if value is None else value

    @field_validator("name")
    @classmethod
    def _not_a_platform_release(cls, value: str) -> str:
        if value in PLATFORM_RELEASES:
            raise rule_error("{value!r} is a release of the platform itself; choose another name", value=value)
        return value

    @field_validator("repository")
    @classmethod
    def _https_or_oci(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise rule_error(
                "{value!r} is not an https:// or oci:// repository; plain http is refused, and local chart paths "
                "break when the stack runs elsewhere (CI)", value=value,
            )
        return value

    @field_validator("version")
    @classmethod
    def _exact_version(cls, value: str) -> str:
        if not _EXACT_VERSION.match(value):
            raise rule_error("{value!r} is not an exact chart version; pin one like 6.9.2 (ranges such as ^6, ~6.9 or 6.x are refused)", value=value)
        return value

    @field_validator("namespace")
    @classmethod
    def _not_the_clusters(cls, value: str | None) -> str | None:
        if value in RESERVED_NAMESPACES:
            raise rule_error("{value!r} belongs to the cluster; the stack creates the namespace it installs into, so choose another", value=value)
        return value

    @field_validator("overrides")
    @classmethod
    def _no_secret_in_the_file(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        problems: list[Problem] = []
        for path in secrets_in(overrides):
            if any(isinstance(key, int) for key in path):
                advice = "the chart must read it from a Secret (its existingSecret or envFrom option); secret_overrides set keys of mappings only"
            else:
                dotted = ".".join(str(key).replace(".", "\\.") for key in path)
                advice = f"take it from the stack's Pulumi config: secret_overrides: {{{shown(dotted)}: someKey}}, then `pulumi config set --secret qhub:someKey <value>`"
            problems.append((path, f"looks like a secret in the committed file; {advice}"))
        if problems:
            raise rules_error(problems)
        return overrides

    @field_validator("secret_overrides")
    @classmethod
    def _paths_into_the_values(cls, secret_overrides: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        overrides = info.data.get("overrides")
        problems: list[Problem] = []
        for path in secret_overrides:
            if not _VALUES_PATH.match(path):
                problems.append(((path,), "is not a values path; expected dot-separated keys like auth.password"))
                continue
            # The secret is set into the overrides at its path: every key before the last must be a mapping.
            node: Any = overrides if isinstance(overrides, dict) else {}
            for key in split_values_path(path)[:-1]:
                node = node.get(key, {}) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                problems.append(((path,), "goes through a value of overrides that is not a mapping"))
        if problems:
            raise rules_error(problems)
        return secret_overrides

    @property
    def oci(self) -> bool:
        """Whether the chart comes from an OCI registry (then the chart reference is the full oci:// URL)."""
        return self.repository.startswith("oci://")


def _unique_names(extensions: list[HelmExtension]) -> list[HelmExtension]:
    problems: list[Problem] = []
    names: dict[str, int] = {}
    paths: dict[str, int] = {}
    for index, extension in enumerate(extensions):
        if extension.name in names:
            problems.append(((index, "name"), f"{quote(extension.name)} is already the name of helm_extensions[{names[extension.name]}]; release names are unique"))
        names.setdefault(extension.name, index)
        if extension.route is not None:
            if extension.route.path in paths:
                problems.append(((index, "route", "path"), f"{quote(extension.route.path)} is already routed to helm_extensions[{paths[extension.route.path]}]"))
            paths.setdefault(extension.route.path, index)
    if problems:
        raise rules_error(problems)
    return extensions


HelmExtensions = Annotated[list[HelmExtension], AfterValidator(_unique_names)]
"""The `helm_extensions` list, names unique."""
