"""Values of the z2jh `jupyterhub` chart, and the data the hub-side configuration reads.

The hub-side module (hub_config/qhub_hub.py) reaches the hub as a file of the HUB_CONFIG_MAP
ConfigMap mounted into z2jh's jupyterhub_config.d; its parameters (hub_data below: users,
groups, profiles, services) are a second file of that ConfigMap, mounted next to it (HubFiles).
They are not chart values: with 10,000 users they would make the Helm release (1 MB limit)
and every plan huge, while one string in a ConfigMap costs the same to plan at any size.

Pure functions: (config, facts about the cluster and the platform, the platform services'
HubIntegrations) -> dict. No Pulumi resource is created here and no secret is read: secrets
reach the hub as environment variables from Kubernetes Secrets (`hub.extraEnv` valueFrom),
named by HubFacts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qhub.cluster import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE, Placement, tolerations_for
from qhub.config import QHubConfig
from qhub.config.security import Auth0Auth, GitHubAuth, PasswordAuth
from qhub.values import spawn_speed
from qhub.values.hub_config import source as hub_source
from qhub.values.hub_integration import HubIntegration, SecretKeyRef
from qhub.values.packed import CONFIG_MAP_LIMIT, pack_json
from qhub.versions import NETWORK_TOOLS_IMAGE

# Requests of the chart's own pods on general, so the scheduler reserves room for them and the
# kubelet evicts them last (a pod without requests is the first to go when a node runs short).
# The hub and its proxy get no memory limit: an OOM-killed hub is an outage for everyone
# (jupyterhub.overrides sets other figures).
HUB_RESOURCES = {"requests": {"cpu": "200m", "memory": "512Mi"}}
PROXY_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}}
USER_SCHEDULER_RESOURCES = {"requests": {"cpu": "20m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}

# The shared volume's name in user pods; the home init container mounts it whole.
SHARED_VOLUME = "shared"
# Where homes are mounted in user pods: /home/<user>, as on the shared volume.
HOME_ROOT = "/home"
# Environment variables of the hub that carry secrets (from the hub Secret).
PASSWORD_ENV = "QHUB_HUB_PASSWORD"
ADMIN_PASSWORD_ENV = "QHUB_HUB_ADMIN_PASSWORD"
# The ConfigMap holding the hub-side module, and where z2jh's jupyterhub_config.py loads it:
# every *.py in jupyterhub_config.d runs after the chart's own settings (services, culler).
HUB_CONFIG_MAP = "qhub-hub-config"
HUB_CONFIG_KEY = "qhub_hub.py"
HUB_CONFIG_PATH = "/usr/local/etc/jupyterhub/jupyterhub_config.d/50-qhub.py"
# The module's data: hub_data as compact JSON, gzip-compressed, in the ConfigMap's binaryData,
# mounted next to the module (z2jh executes only *.py there) and named to it by HUB_DATA_ENV.
# Why compressed: a ConfigMap holds at most 1 MiB. Compact JSON takes 160-280 bytes per user
# (name, uid, gid, groups and gids, and the name again in each group's member list), so 10,000
# users would be 1.6-2.8 MB. gzip takes that to ~17 bytes per user with regular names and
# ids, and to at most ~40 with arbitrary ones, so one ConfigMap holds 25,000+ users;
# hub_files refuses more than fits, and tests/test_hub_config.py checks that 10,000 users with
# e-mail names stay under 1/4 MiB.
HUB_DATA_KEY = "qhub_hub.json.gz"
HUB_DATA_PATH = "/usr/local/etc/jupyterhub/jupyterhub_config.d/50-qhub.json.gz"
HUB_DATA_ENV = "QHUB_HUB_DATA"
# The z2jh Service the ingress sends traffic to; NGINX upgrades WebSockets only for the
# services its Ingress annotation names.
PROXY_SERVICE = "proxy-public"


@dataclass(frozen=True)
class HubSecrets:
    """Keys of the Kubernetes Secret that holds the hub's secrets (each None when unused)."""

    secret_name: str
    oauth_client_secret_key: str | None = None
    password_key: str | None = None
    admin_password_key: str | None = None


@dataclass(frozen=True)
class HubFacts:
    """What the JupyterHub values need to know beyond the config."""

    general_selector: Mapping[str, str]
    """Node selector of the general group (hub, proxy, user scheduler)."""
    user_selector: Mapping[str, str]
    """Node selector of the user group (user servers)."""
    shared_claim: str
    """ReadWriteMany claim holding /home/<user> and /home/shared/<group>."""
    secrets: HubSecrets
    """Where the hub's secrets live."""
    gpu_selector: Mapping[str, str] | None = None
    """Node selector of the GPU group GPU profiles land on unless their own node_selector names
    another: the first of ClusterOutputs.gpu_node_groups (config order); None without one."""
    oauth_client_id: Any = None
    """OAuth client id (a string, or an Output when the program creates the Auth0 client)."""
    auth0_domain: Any = None
    """Auth0 tenant domain (a string or an Output) for Auth0 login."""
    init_image: str = "docker.io/library/busybox:1.37.0"
    """Image of the init container that prepares home and group folders."""
    placements: Sequence[Placement] = ()
    """Every node group's selector and the tolerations of its taints (ClusterOutputs.placements):
    a user server tolerates the taints of the group it lands on (GPU, AKS spot)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Reserved for values other components must add (merged last)."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "profile"


def _admin_users(config: QHubConfig) -> list[str]:
    return sorted(config.security.members("admin")) if "admin" in config.security.groups else []


def profile_entries(config: QHubConfig, facts: HubFacts) -> list[dict[str, Any]]:
    """config.profiles.jupyterlab as KubeSpawner profiles, with QHub's visibility keys."""
    entries = []
    for profile in config.profiles.jupyterlab:
        override: dict[str, Any] = {"image": config.default_images.jupyterlab, **profile.kubespawner_override}
        if profile.gpus:
            if facts.gpu_selector is None:
                raise ValueError(f"profile {profile.display_name!r} asks for GPUs but the cluster has no GPU node group")
            # With several GPU groups a profile picks one by its own node_selector; otherwise it
            # lands on the first (facts.gpu_selector). Overrides are merged into the spawner's
            # dicts: None removes a user-group key the chosen selector does not also set.
            chosen = dict(profile.kubespawner_override.get("node_selector") or facts.gpu_selector)
            override["node_selector"] = {
                **{key: None for key in facts.user_selector if key not in chosen},
                **chosen,
            }
            # Added to the profile's own tolerations: a list override replaces the spawner's.
            override["tolerations"] = [
                *(override.get("tolerations") or []),
                {"key": GPU_TAINT_KEY, "operator": "Equal", "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT},
            ]
            limits = dict(override.get("extra_resource_limits") or {})
            limits["nvidia.com/gpu"] = profile.gpus
            override["extra_resource_limits"] = limits
        if "node_selector" in override or "tolerations" in override:
            # Its list replaces the spawner's (singleuser.extraTolerations, the user group's), so
            # it carries the tolerations of the group its node selector (merged into the user
            # group's, None removing a key, as KubeSpawner merges it) lands on.
            placed = {key: value for key, value in {**facts.user_selector, **(override.get("node_selector") or {})}.items()
                      if value is not None}
            own = list(override.get("tolerations") or [])
            override["tolerations"] = own + [t for t in tolerations_for(placed, facts.placements) if t not in own]
        entries.append({
            "slug": _slug(profile.display_name),
            "display_name": profile.display_name,
            "description": profile.description,
            "default": profile.default,
            "users": list(profile.users),
            "groups": list(profile.groups),
            "kubespawner_override": override,
        })
    return entries


def _token_env(service_name: str) -> str:
    return "QHUB_SERVICE_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", service_name.upper())


def hub_data(config: QHubConfig, facts: HubFacts, integrations: Sequence[HubIntegration] = ()) -> dict[str, Any]:
    """The JSON the hub-side configuration (hub_config/qhub_hub.py) reads from HUB_DATA_PATH."""
    security = config.security
    auth = security.authentication
    callback = f"https://{config.domain}/hub/oauth_callback"
    if isinstance(auth, GitHubAuth):
        login: dict[str, Any] = {"type": "github", "callback_url": auth.config.oauth_callback_url or callback}
    elif isinstance(auth, Auth0Auth):
        login = {"type": "auth0", "callback_url": auth.config.oauth_callback_url or callback, "scope": list(auth.config.scope)}
    else:
        assert isinstance(auth, PasswordAuth)
        login = {"type": "password", "user_secret_env": PASSWORD_ENV, "admin_secret_env": ADMIN_PASSWORD_ENV}
    users = {}
    for name, user in security.users.items():
        secondary = [g for g in user.secondary_groups if g != user.primary_group]
        users[name] = {
            "uid": user.uid,
            "gid": security.groups[user.primary_group].gid,
            "groups": [user.primary_group, *secondary],
            "supplemental_gids": [security.groups[g].gid for g in secondary],
        }
    services = [
        {
            "name": service.name,
            "url": service.url,
            "token_env": _token_env(service.name),
            "oauth_redirect_uri": service.oauth_redirect_uri,
            "oauth_no_confirm": service.oauth_no_confirm,
            "display": service.display,
            "scopes": list(service.scopes),
        }
        for integration in integrations for service in integration.services
    ]
    scopes: list[str] = []
    user_scopes: list[str] = []
    for integration in integrations:
        scopes.extend(s for s in integration.server_token_scopes if s not in scopes)
        user_scopes.extend(s for s in integration.user_scopes if s not in user_scopes)
    return {
        "auth": login,
        "users": users,
        "groups": {name: group.gid for name, group in security.groups.items()},
        "group_members": {name: security.members(name) for name in security.groups},
        "admin_users": _admin_users(config),
        "profiles": profile_entries(config, facts),
        "home": {"volume": SHARED_VOLUME, "mount_root": HOME_ROOT, "init_image": facts.init_image},
        "services": services,
        "server_token_scopes": scopes,
        "user_scopes": user_scopes,
    }


@dataclass(frozen=True)
class HubFiles:
    """The files of the HUB_CONFIG_MAP ConfigMap: the hub-side module and the data it reads."""

    module: str
    """hub_config/qhub_hub.py, verbatim (key HUB_CONFIG_KEY)."""
    data: bytes
    """hub_data as compact JSON, gzip-compressed (key HUB_DATA_KEY of binaryData)."""
    checksum: str
    """sha256 of the module and the JSON: a hub pod annotation, so either change restarts the hub
    (files mounted by subPath are not updated in a running pod)."""


def hub_files(config: QHubConfig, facts: HubFacts, integrations: Sequence[HubIntegration] = ()) -> HubFiles:
    """The module and its data, ready for the ConfigMap; raises if they outgrow a ConfigMap."""
    module = hub_source()
    data = pack_json(hub_data(config, facts, integrations), "the hub's users, groups and profiles")
    if len(module.encode()) + len(data) > CONFIG_MAP_LIMIT:
        raise ValueError(f"the hub's module and data take {len(module.encode()) + len(data)} bytes, more than a "
                         f"ConfigMap holds ({CONFIG_MAP_LIMIT}); split {HUB_DATA_KEY} across ConfigMaps")
    checksum = hashlib.sha256(module.encode() + b"\0" + data).hexdigest()
    return HubFiles(module, data, checksum)


def _secret_env(name: str, ref: SecretKeyRef) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}


def hub_env(config: QHubConfig, facts: HubFacts, integrations: Sequence[HubIntegration] = ()) -> list[dict[str, Any]]:
    """The hub container's environment: secrets by secretKeyRef, plain ids and paths by value."""
    env: list[dict[str, Any]] = [{"name": HUB_DATA_ENV, "value": HUB_DATA_PATH}]
    secrets = facts.secrets
    auth = config.security.authentication
    if isinstance(auth, (GitHubAuth, Auth0Auth)):
        if secrets.oauth_client_secret_key is None:
            raise ValueError("OAuth login needs the client secret in the hub Secret")
        env.append({"name": "OAUTH_CLIENT_ID", "value": facts.oauth_client_id})
        env.append(_secret_env("OAUTH_CLIENT_SECRET", SecretKeyRef(secrets.secret_name, secrets.oauth_client_secret_key)))
    if isinstance(auth, Auth0Auth):
        env.append({"name": "AUTH0_DOMAIN", "value": facts.auth0_domain})
    if isinstance(auth, PasswordAuth):
        if secrets.password_key is None or secrets.admin_password_key is None:
            raise ValueError("password login needs the passwords in the hub Secret")
        env.append(_secret_env(PASSWORD_ENV, SecretKeyRef(secrets.secret_name, secrets.password_key)))
        env.append(_secret_env(ADMIN_PASSWORD_ENV, SecretKeyRef(secrets.secret_name, secrets.admin_password_key)))
    for integration in integrations:
        for service in integration.services:
            env.append(_secret_env(_token_env(service.name), service.api_token))
    return env


def jupyterhub_values(config: QHubConfig, facts: HubFacts, integrations: Sequence[HubIntegration] = (),
                      files: HubFiles | None = None) -> dict[str, Any]:
    """Values of the z2jh chart for one stack; `files` are hub_files(...) when the caller has them."""
    if files is None:
        files = hub_files(config, facts, integrations)
    general = dict(facts.general_selector)
    singleuser_env: dict[str, str] = {}
    volumes: list[dict[str, Any]] = [{"name": SHARED_VOLUME, "persistentVolumeClaim": {"claimName": facts.shared_claim}}]
    mounts: list[dict[str, Any]] = [{"name": SHARED_VOLUME, "mountPath": f"{HOME_ROOT}/shared", "subPath": "home/shared"}]
    egress: list[dict[str, Any]] = []
    for integration in integrations:
        singleuser_env.update(integration.singleuser_env)
        volumes.extend(dict(v) for v in integration.volumes)
        mounts.extend(dict(m) for m in integration.volume_mounts)
        egress.extend(dict(rule) for rule in integration.egress)
    hub = config.jupyterhub
    user_tolerations = tolerations_for(facts.user_selector, facts.placements)
    entries = profile_entries(config, facts)
    server_image = spawn_speed.singleuser_image(entries, facts.user_selector, config.default_images.jupyterlab)
    values: dict[str, Any] = {
        "hub": {
            "image": _image(config.default_images.hub),
            "nodeSelector": general,
            "extraEnv": hub_env(config, facts, integrations),
            # The hub-side module and its data are files from a ConfigMap, not code or data in
            # values; their checksum restarts the hub when either changes.
            "extraVolumes": [{"name": "qhub-hub-config", "configMap": {"name": HUB_CONFIG_MAP}}],
            "extraVolumeMounts": [
                {"name": "qhub-hub-config", "mountPath": HUB_CONFIG_PATH, "subPath": HUB_CONFIG_KEY, "readOnly": True},
                {"name": "qhub-hub-config", "mountPath": HUB_DATA_PATH, "subPath": HUB_DATA_KEY, "readOnly": True},
            ],
            "annotations": {"qhub.dev/hub-config-sha256": files.checksum},
            # users, tokens (SSH passwords), named servers, shares: Helm keeps the claim when the release goes.
            "db": {"type": "sqlite-pvc", "pvc": {"storage": "1Gi", "annotations": {"helm.sh/resource-policy": "keep"}}},
            "resources": HUB_RESOURCES,
        },
        "proxy": {
            # TLS ends at the NGINX ingress; the chart's own Traefik (autohttps) stays off.
            "service": {"type": "ClusterIP"},
            "https": {"enabled": False},
            "chp": {"nodeSelector": general, "resources": PROXY_RESOURCES},
        },
        "singleuser": {
            # Every profile names its image; this one is what z2jh's puller pulls as the default.
            "image": _image(server_image),
            # The chart's own, named here because QHub's image pullers pull it too.
            "networkTools": {"image": _image(NETWORK_TOOLS_IMAGE)},
            "nodeSelector": dict(facts.user_selector),
            "defaultUrl": "/lab",
            "startTimeout": 600,
            # Homes live on the shared volume, mounted per user by the hub configuration.
            "storage": {"type": "none", "homeMountPath": f"{HOME_ROOT}/jovyan", "extraVolumes": volumes, "extraVolumeMounts": mounts},
            "extraEnv": singleuser_env,
            "networkPolicy": {"egress": egress},
            # The user group's taints (an AKS spot pool's); z2jh's image pullers take them too.
            **({"extraTolerations": user_tolerations} if user_tolerations else {}),
        },
        "scheduling": {
            "userScheduler": {"enabled": True, "nodeSelector": general, "resources": USER_SCHEDULER_RESOURCES},
            # Placement is by node selector; the chart's purpose-label affinity would only prefer.
            "corePods": {"nodeAffinity": {"matchNodePurpose": "ignore"}},
            "userPods": {"nodeAffinity": {"matchNodePurpose": "ignore"}},
            # jupyterhub.warm_servers: placeholders sized like the default profile (spawn_speed.py).
            **spawn_speed.scheduling_values(config),
        },
        # The user group's images, pulled onto every user node as it joins (spawn_speed.py).
        "prePuller": spawn_speed.pre_puller_values(entries, facts.user_selector, server_image,
                                                   spawn_speed.init_images(facts.init_image)),
        # The platform's one Ingress routes to proxy-public (qhub/values/routes.py).
        "ingress": {"enabled": False},
        "cull": {
            "enabled": True,
            "timeout": hub.idle_timeout_minutes * 60,
            "every": min(600, hub.idle_timeout_minutes * 60 // 2),
            "maxAge": hub.max_server_age_hours * 3600,
        },
    }
    # The admin's chart values last (jupyterhub.overrides, checked by the config model: no key
    # QHub owns, no secret, valid for the chart).
    return deep_merge(deep_merge(values, dict(facts.extra)), config.jupyterhub.overrides)


def _image(reference: str) -> dict[str, str]:
    """A z2jh image block from `name:tag` (digests and registries with ports kept whole)."""
    name, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return {"name": reference, "tag": "latest"}
    return {"name": name, "tag": tag}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into `base` as Helm merges values: mappings recursively, the rest replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
