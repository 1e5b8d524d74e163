"""QHub's part of the hub configuration: login, users and groups, profiles, unix identity, homes.

This file runs inside the hub pod (z2jh 4.4.0: JupyterHub 5.5.0, KubeSpawner 7.0.0,
OAuthenticator 17.4.0), mounted from a ConfigMap into
/usr/local/etc/jupyterhub/jupyterhub_config.d/, whose files z2jh's jupyterhub_config.py
exec()s after its own settings, with `c` (the traitlets config) and `get_config` (z2jh's reader
of the chart values) in scope;
all parameters come from one file mounted next to this one from the same ConfigMap, named by
the environment variable QHUB_HUB_DATA: gzip-compressed JSON that
qhub.values.jupyterhub.hub_data builds (users, groups and profiles are too many for chart
values). Secrets arrive as environment variables from Kubernetes Secrets (hub.extraEnv
valueFrom secretKeyRef), never through values or that file.

It must import nothing from qhub: only the standard library and what the hub image ships.
"""

from __future__ import annotations

import gzip
import json
import os
from typing import Any

# The init container that prepares homes and group folders runs this script as root on the
# shared volume. Arguments: volume root, user name, uid, gid, then "<group>:<gid>" per group.
# The script is constant; everything that varies comes in as arguments, so no user-controlled
# text is ever parsed as shell. No curly braces: KubeSpawner expands init containers with
# str.format ({username} templates), which would break ${...} or fail on it.
HOME_INIT_SCRIPT = r"""
set -eu
root="$1"; user="$2"; uid="$3"; gid="$4"; shift 4
case "$user" in */*|.|..|"") echo "refusing user name $user" >&2; exit 1;; esac
mkdir -p "$root/home/shared"
chown 0:0 "$root/home/shared"
chmod 0755 "$root/home/shared"
home="$root/home/$user"
mkdir -p "$home"
chown "$uid:$gid" "$home"
chmod 0700 "$home"
for spec in "$@"; do
  group=$(echo "$spec" | cut -d: -f1); group_gid=$(echo "$spec" | cut -d: -f2)
  folder="$root/home/shared/$group"
  mkdir -p "$folder"
  chown "0:$group_gid" "$folder"
  chmod 2770 "$folder"
done
"""

# Key of the home mount in KubeSpawner.volume_mounts when z2jh has made that a dict.
HOME_MOUNT_KEY = "qhub-home"

# Scopes every user server's token has by default (JupyterHub 5.5 `server` role); QHub only adds.
DEFAULT_SERVER_SCOPES = ("users:activity!user", "access:servers!server")


def visible_profiles(data: dict[str, Any], username: str) -> list[dict[str, Any]]:
    """The spawner profiles `username` may choose: those naming them or one of their groups,
    and those naming nobody. QHub's visibility keys are removed; KubeSpawner sees its own only."""
    user = data["users"].get(username)
    groups = set(user["groups"]) if user else set()
    chosen = []
    for profile in data["profiles"]:
        named_users, named_groups = profile.get("users", []), profile.get("groups", [])
        if (named_users or named_groups) and username not in named_users and not groups & set(named_groups):
            continue
        chosen.append({key: value for key, value in profile.items() if key not in ("users", "groups")})
    # Exactly one preselected choice: the configured default if this user sees it, else the first.
    if chosen and not any(profile.get("default") for profile in chosen):
        chosen[0] = {**chosen[0], "default": True}
    return chosen


def home_init_container(data: dict[str, Any], username: str) -> dict[str, Any]:
    """The init container that creates /home/<user> (700) and the user's group folders (2770)."""
    user = data["users"][username]
    home = data["home"]
    group_specs = [f"{group}:{data['groups'][group]}" for group in user["groups"]]
    return {
        "name": "qhub-home",
        "image": home["init_image"],
        "command": ["sh", "-c", HOME_INIT_SCRIPT, "qhub-home"],
        "args": ["/mnt/shared", username, str(user["uid"]), str(user["gid"]), *group_specs],
        "securityContext": {
            "runAsUser": 0,
            "runAsGroup": 0,
            "runAsNonRoot": False,
            "allowPrivilegeEscalation": False,
            # Root, but only what creating and handing over folders needs. FSETID: root is not
            # in a group folder's group, and without it the kernel silently clears the setgid
            # bit of `chmod 2770` (a file system checked by the node's kernel; an NFS server
            # checks with its own), so new files would not take the group.
            "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": home["volume"], "mountPath": "/mnt/shared"}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
    }


def with_volume_mount(mounts: Any, key: str, mount: dict[str, Any]) -> Any:
    """`mounts` with `mount` added, in the form they came in (a new object either way).

    z2jh's jupyterhub_config.py sets KubeSpawner.volume_mounts as a dict keyed by name
    (KubeSpawner 7 mounts its values, sorted by key); spreading that dict into a list would give
    its keys, and every pod manifest would fail. A list (KubeSpawner's own default) gets `mount`
    appended.
    """
    if isinstance(mounts, dict):
        return {**mounts, key: mount}
    return [*mounts, mount]


def apply_identity(spawner: Any, data: dict[str, Any]) -> None:
    """Give a spawner the user's unix identity, home folder and the init container that makes it.

    Runs as pre_spawn_hook. The profile's kubespawner_override is applied after this hook (at
    KubeSpawner.start), which is why the config model forbids profiles to set uid, gid,
    supplemental_gids and fs_gid: nothing a profile sets can undo these.
    """
    username = spawner.user.name
    user = data["users"].get(username)
    if user is None:  # only listed users can log in; a stale session must not spawn as root
        raise ValueError(f"user {username!r} is not in security.users of the QHub config")
    home_path = f"{data['home']['mount_root']}/{username}"
    spawner.uid = user["uid"]
    spawner.gid = user["gid"]
    spawner.fs_gid = user["gid"]
    spawner.supplemental_gids = list(user["supplemental_gids"])
    spawner.environment = {**spawner.environment, "HOME": home_path, "QHUB_GROUPS": ",".join(user["groups"])}
    spawner.working_dir = home_path
    spawner.notebook_dir = home_path
    spawner.volume_mounts = with_volume_mount(
        spawner.volume_mounts,
        HOME_MOUNT_KEY,
        {"name": data["home"]["volume"], "mountPath": home_path, "subPath": f"home/{username}"},
    )
    spawner.init_containers = [home_init_container(data, username), *spawner.init_containers]
    spawner.extra_labels = {**spawner.extra_labels, "qhub.dev/primary-group": user["groups"][0]}


def configure_authenticator(c: Any, data: dict[str, Any]) -> None:
    """Login: GitHub, Auth0 or a shared password; only listed users, admins from the admin group."""
    auth = data["auth"]
    kind = auth["type"]
    if kind == "github":
        c.JupyterHub.authenticator_class = "github"
        section = c.GitHubOAuthenticator
    elif kind == "auth0":
        c.JupyterHub.authenticator_class = "auth0"
        section = c.Auth0OAuthenticator
        # QHub names Auth0 users by e-mail; Auth0OAuthenticator refuses unverified addresses.
        section.username_claim = "email"
        section.scope = list(auth["scope"])
    elif kind == "password":
        c.JupyterHub.authenticator_class = "shared-password"
        section = c.SharedPasswordAuthenticator
        section.user_password = os.environ[auth["user_secret_env"]]
        section.admin_password = os.environ[auth["admin_secret_env"]]
    else:
        raise ValueError(f"unknown login type {kind!r}")
    if kind in ("github", "auth0"):
        # Client id, secret and (Auth0) domain come from OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and
        # AUTH0_DOMAIN, which OAuthenticator reads itself.
        section.oauth_callback_url = auth["callback_url"]
    c.Authenticator.allow_all = False
    c.Authenticator.allowed_users = set(data["users"])
    c.Authenticator.admin_users = set(data["admin_users"])
    # Config groups become hub groups (admin page, services that read group membership).
    c.JupyterHub.load_groups = {name: {"users": members} for name, members in data["group_members"].items()}


def configure_services(c: Any, data: dict[str, Any]) -> None:
    """Hub services of the platform (dask-gateway, conda-store, SSH), their roles and token scopes."""
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    roles = list(c.JupyterHub.load_roles) if "load_roles" in c.JupyterHub else []
    for service in data["services"]:
        entry: dict[str, Any] = {
            "name": service["name"],
            "api_token": os.environ[service["token_env"]],
            "display": service["display"],
        }
        if service.get("url"):
            entry["url"] = service["url"]
        if service.get("oauth_redirect_uri"):
            entry["oauth_redirect_uri"] = service["oauth_redirect_uri"]
            entry["oauth_no_confirm"] = service["oauth_no_confirm"]
        services.append(entry)
        if service["scopes"]:
            roles.append({"name": f"qhub-service-{service['name']}", "scopes": list(service["scopes"]), "services": [service["name"]]})
    extra = list(data["server_token_scopes"])
    # A server token gets only the scopes its user holds, so users get the scopes too; some
    # (logging in to a service through the hub) only users need.
    user_scopes = [*extra, *(s for s in data.get("user_scopes", []) if s not in extra)]
    if user_scopes:
        roles.append({"name": "user", "scopes": ["self", *user_scopes]})
    if extra:
        c.Spawner.server_token_scopes = [*DEFAULT_SERVER_SCOPES, *extra]
    c.JupyterHub.services = services
    c.JupyterHub.load_roles = roles


def load_data(path: str) -> dict[str, Any]:
    """The data file: gzip-compressed JSON."""
    with open(path, "rb") as file:
        return json.loads(gzip.decompress(file.read()))  # type: ignore[no-any-return]


def configure(c: Any, data: dict[str, Any]) -> None:
    """Everything QHub adds to the hub configuration z2jh builds from the chart values."""
    configure_authenticator(c, data)
    configure_services(c, data)

    def profile_list(spawner: Any) -> list[dict[str, Any]]:
        return visible_profiles(data, spawner.user.name)

    def pre_spawn_hook(spawner: Any) -> None:
        apply_identity(spawner, data)

    c.KubeSpawner.profile_list = profile_list
    c.KubeSpawner.pre_spawn_hook = pre_spawn_hook


# Executed by z2jh's jupyterhub_config.py, which provides `c` and `get_config`; importing this
# file elsewhere (tests, tools) defines the functions only.
if "get_config" in globals() and "c" in globals():
    configure(c, load_data(os.environ["QHUB_HUB_DATA"]))  # type: ignore[name-defined]  # noqa: F821
