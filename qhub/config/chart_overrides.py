"""`jupyterhub.overrides` and `dask_gateway.overrides`: chart values the QHub file does not model.

QHub 0.4's and Nebari's escape hatch: values of the z2jh or dask-gateway chart, deep-merged over
the values QHub computes (qhub/values/jupyterhub.py, dask_gateway.py). Checked here, offline:

- against the chart's own values.schema.json, pinned in qhub/schemas/ (tests/test_chart_overrides.py
  checks the copies equal the charts' in ../shared/charts), merged over nothing: a key the chart
  does not have, a value of the wrong type. The schema and jsonschema are loaded only when a
  file has overrides, so `qhub validate` of the others stays fast;
- refused where they would take over what QHub owns (OWNED_KEYS: the authenticator and who is
  admin, the hub's config files, environment and command, the users' identity and homes, the
  gateway's auth), each with the reason and what to do instead;
- refused where they carry a secret: secrets come from the stack's Pulumi config only.

No Pulumi import.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from qhub import versions
from qhub.config.base import Problem, rules_error
from qhub.config.errors import clip, quote
from qhub.config.extensions import secrets_in

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
"""The pinned copies of the charts' values.schema.json, named <chart>-<version>.values.schema.json."""

# Where the hub image reads its configuration (z2jh's jupyterhub_config.py, QHub's module in
# jupyterhub_config.d, the chart's values from its Secret).
HUB_CONFIG_DIR = "/usr/local/etc/jupyterhub"


@dataclass(frozen=True)
class OwnedKey:
    """A values path QHub sets and an override may not: its segments (fnmatch patterns) and why."""

    path: tuple[str, ...]
    why: str
    applies: Callable[[Any], bool] | None = None
    """When given, the key is refused only for values it accepts."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _into_hub_config_dir(mount_path: Any) -> bool:
    return isinstance(mount_path, str) and (mount_path == HUB_CONFIG_DIR or mount_path.startswith(HUB_CONFIG_DIR + "/"))


_AUTH = "QHub's login (security.authentication, users and groups) sets who logs in and who is admin"
_HUB_FILES = "it carries QHub's hub configuration (its module and data files, mounted from a ConfigMap) and secrets by secretKeyRef; a list override replaces the whole list"
_RUNS_LAST = "z2jh runs it after QHub's hub configuration, so it could replace the authenticator and the spawn hooks that set users' uids, homes and profiles; set traitlets QHub does not set with hub.config.<Class>"
_NAMES = "QHub's routes, NetworkPolicies and services refer to the chart's fixed object names"

JUPYTERHUB_OWNED: tuple[OwnedKey, ...] = (
    OwnedKey(("fullnameOverride",), _NAMES),
    OwnedKey(("nameOverride",), _NAMES),
    OwnedKey(("hub", "config", "JupyterHub", "authenticator_class"), _AUTH),
    OwnedKey(("hub", "config", "*Authenticator"), _AUTH),
    OwnedKey(("hub", "config", "JupyterHub", "admin_users"), _AUTH),
    OwnedKey(("hub", "config", "JupyterHub", "load_groups"), _AUTH + " (groups come from security.groups)"),
    OwnedKey(("hub", "config", "JupyterHub", "load_roles"), _AUTH + " (roles could grant admin scopes)"),
    OwnedKey(("hub", "loadRoles"), _AUTH + " (roles could grant admin scopes)"),
    OwnedKey(("hub", "config", "JupyterHub", "services"), "QHub registers the platform's hub services with tokens from Kubernetes Secrets"),
    OwnedKey(("hub", "services"), "QHub registers the platform's hub services with tokens from Kubernetes Secrets"),
    OwnedKey(("hub", "extraConfig"), _RUNS_LAST),
    OwnedKey(("hub", "extraEnv"), _HUB_FILES),
    OwnedKey(("hub", "extraVolumes"), _HUB_FILES),
    OwnedKey(("hub", "extraVolumeMounts"), _HUB_FILES),
    OwnedKey(("hub", "extraFiles", "*", "mountPath"), f"files under {HUB_CONFIG_DIR} are the hub's configuration, which QHub provides",
             _into_hub_config_dir),
    OwnedKey(("hub", "command"), "the hub must start with z2jh's jupyterhub_config.py, which loads QHub's configuration"),
    OwnedKey(("hub", "args"), "the hub must start with z2jh's jupyterhub_config.py, which loads QHub's configuration"),
    OwnedKey(("hub", "cookieSecret"), "a secret; the chart generates it and keeps it in the hub's Secret"),
    OwnedKey(("hub", "config", "JupyterHub", "cookie_secret"), "a secret; the chart generates it and keeps it in the hub's Secret"),
    OwnedKey(("hub", "config", "JupyterHub", "cookie_secret_file"), "the chart keeps the cookie secret in the hub's Secret"),
    OwnedKey(("hub", "config", "CryptKeeper"), "a secret; the chart generates it and keeps it in the hub's Secret"),
    OwnedKey(("hub", "existingSecret"), "the hub's secrets are the chart's Secret and QHub's qhub-hub-secrets"),
    OwnedKey(("proxy", "secretToken"), "a secret; the chart generates it and keeps it in the hub's Secret"),
    OwnedKey(("imagePullSecret",), "it takes registry credentials in the values; create the Secret from Pulumi config and name it in imagePullSecrets"),
    OwnedKey(("singleuser", "profileList"), "QHub's profiles (profiles.jupyterlab) replace it at spawn time, so it would do nothing"),
    OwnedKey(("singleuser", "uid"), "each server runs as its user's uid from security.users"),
    OwnedKey(("singleuser", "fsGid"), "each server runs with its user's primary gid from security.users"),
    OwnedKey(("singleuser", "storage"), "homes and group folders live on the shared drive, which QHub mounts per user; a list override replaces QHub's mounts"),
    OwnedKey(("singleuser", "networkPolicy", "egress"), "QHub fills it (the dask-gateway proxy); a list override replaces it, use singleuser.networkPolicy.egressAllowRules or add a NetworkPolicy"),
)
"""Keys of the z2jh chart QHub owns (README, "Chart overrides", lists them)."""

DASK_GATEWAY_OWNED: tuple[OwnedKey, ...] = (
    OwnedKey(("fullnameOverride",), _NAMES),
    OwnedKey(("nameOverride",), _NAMES),
    OwnedKey(("gateway", "auth"), "the gateway authenticates users through JupyterHub, with QHub's service token from a Kubernetes Secret"),
    OwnedKey(("gateway", "extraConfig"), "it holds QHub's cluster options, and other snippets run in the same config file, where they could replace the authenticator or the options"),
    OwnedKey(("gateway", "env"), "it carries QHub's cluster-option settings; a list override replaces it"),
    OwnedKey(("gateway", "prefix"), "the hub routes /services/dask-gateway to the gateway, and user servers are configured with it"),
)
"""Keys of the dask-gateway chart QHub owns."""


@dataclass(frozen=True)
class ChartRules:
    """What an override of one chart is checked against."""

    chart: versions.Chart
    owned: tuple[OwnedKey, ...]

    @property
    def label(self) -> str:
        return f"the {self.chart.name} chart {self.chart.version}"

    @property
    def schema_file(self) -> Path:
        return SCHEMAS / f"{self.chart.name}-{self.chart.version}.values.schema.json"


JUPYTERHUB = ChartRules(versions.JUPYTERHUB_CHART, JUPYTERHUB_OWNED)
DASK_GATEWAY = ChartRules(versions.DASK_GATEWAY_CHART, DASK_GATEWAY_OWNED)


def override_problems(rules: ChartRules, overrides: dict[str, Any]) -> list[Problem]:
    """Every problem of one chart's overrides, each at its key path below `overrides`."""
    if not overrides:
        return []
    problems: list[Problem] = []
    refused: list[tuple[str | int, ...]] = []
    for path, owned in _owned_keys_set(rules.owned, overrides):
        refused.append(path)
        removes = len(owned.path) > len(path)
        what = f"null here would remove {owned.dotted}, which QHub sets" if removes else "QHub sets this"
        problems.append((path, f"{what}: {owned.why}"))
    for path in secrets_in(overrides):
        if not _under(path, refused):
            refused.append(path)
            problems.append((path, "looks like a secret in the committed file; secrets come from the stack's Pulumi config "
                                   "(`pulumi config set --secret`), and reach the chart through a Kubernetes Secret it reads"))
    problems += [p for p in _schema_problems(rules, overrides) if not _under(p[0], refused)]
    return problems


def _under(path: tuple[str | int, ...], prefixes: list[tuple[str | int, ...]]) -> bool:
    return any(path[:len(prefix)] == prefix for prefix in prefixes)


def _matches(path: tuple[str | int, ...], pattern: tuple[str, ...]) -> bool:
    return len(path) == len(pattern) and all(fnmatch.fnmatchcase(str(key), part) for key, part in zip(path, pattern))


def _owned_keys_set(owned: tuple[OwnedKey, ...], values: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], OwnedKey]]:
    """(path, key) of each owned key the override sets, or removes with null above it."""
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        here = (*path, key)
        hit = next((o for o in owned if _matches(here, o.path) and (o.applies is None or o.applies(value))), None)
        if hit is not None:
            yield here, hit
            continue
        if value is None:
            # A null deletes the chart's value and QHub's below it (Helm's merge).
            below = next((o for o in owned if len(o.path) > len(here) and o.applies is None and _matches(here, o.path[:len(here)])), None)
            if below is not None:
                yield here, below
            continue
        yield from _owned_keys_set(owned, value, here)


def _without_nulls(values: Any) -> Any:
    """The override as Helm validates it: a null removes its key before the schema is applied."""
    if isinstance(values, dict):
        return {key: _without_nulls(value) for key, value in values.items() if value is not None}
    if isinstance(values, list):
        return [_without_nulls(item) for item in values]
    return values


def _import_jsonschema() -> Any:
    """jsonschema, imported without the grammar of its optional `iri` format checker.

    jsonschema imports every optional format checker's package at its own import; one of them,
    rfc3987-syntax (installed beside the hub's packages in development), compiles a grammar for
    3-4 seconds. The charts' schemas check no formats (neither does Helm by default), so the
    import is hidden while jsonschema loads, and restored after.
    """
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    hidden = "rfc3987_syntax"
    before = sys.modules.get(hidden, _ABSENT)
    sys.modules[hidden] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import jsonschema
    finally:
        if before is _ABSENT:
            del sys.modules[hidden]
        else:
            sys.modules[hidden] = before  # type: ignore[assignment]
    return jsonschema


_ABSENT = object()


@functools.cache
def _validator(schema_file: Path) -> Any:
    # Only files with overrides pay for jsonschema and the schema (z2jh's is 200 kB).
    jsonschema = _import_jsonschema()
    return jsonschema.Draft7Validator(json.loads(schema_file.read_text(encoding="utf-8")))


def _fixed_keys_only(schema_path: Any) -> bool:
    """A `required` of an object the chart always has (only `properties` on the way), which
    the chart's defaults and QHub's values fill: not the override's to give."""
    parts = list(schema_path)
    return parts[-1:] == ["required"] and all(part == "properties" for part in parts[:-1][0::2])


def _schema_problems(rules: ChartRules, overrides: dict[str, Any]) -> list[Problem]:
    instance = _without_nulls(copy.deepcopy(overrides))
    problems: list[Problem] = []
    errors = sorted(_validator(rules.schema_file).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = tuple(error.absolute_path)
        if error.validator == "required" and _fixed_keys_only(error.relative_schema_path):
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema.get("properties") or {}))
            patterns = list((error.schema.get("patternProperties") or {}))
            for key in error.instance:
                if key in known or any(_pattern_matches(p, key) for p in patterns):
                    continue
                problems.append(((*path, key), f"not a value of {rules.label}{_close_match(key, known)}"))
            continue
        problems.append((path, f"{clip(error.message, 200)} (the schema of {rules.label})"))
    return problems


def _pattern_matches(pattern: str, key: str) -> bool:
    import re

    return re.search(pattern, key) is not None


def _close_match(key: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1)
    if close:
        return f"; did you mean {quote(close[0])}?"
    return f"; it has {clip(', '.join(sorted(known)), 300)}" if known else ""


def _checked(rules: ChartRules, overrides: dict[str, Any]) -> dict[str, Any]:
    problems = override_problems(rules, overrides)
    if problems:
        raise rules_error(problems)
    return overrides


def _none_is_empty(value: object) -> object:
    # QHub 0.4 and Nebari files may leave `overrides:` empty.
    return {} if value is None else value


JupyterHubOverrides = Annotated[dict[str, Any], BeforeValidator(_none_is_empty), AfterValidator(functools.partial(_checked, JUPYTERHUB))]
"""`jupyterhub.overrides`: z2jh values, checked."""
DaskGatewayOverrides = Annotated[dict[str, Any], BeforeValidator(_none_is_empty), AfterValidator(functools.partial(_checked, DASK_GATEWAY))]
"""`dask_gateway.overrides`: dask-gateway values, checked."""
