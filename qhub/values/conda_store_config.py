"""conda-store's traitlets config file (`conda-store-server --config` / `conda-store-worker --config`).

Mounted from a ConfigMap next to settings.json.gz (built by qhub.values.conda_store.server_settings);
secrets come from the environment (Secret keys via secretKeyRef). Nothing here is templated.
It fixes the two auth traps of the stock classes (conda-store.md): the session/JWT secret is
fixed, so restarts keep logins; and role bindings follow the config's users and groups instead
of making every user admin of everything.
"""

import gzip
import json
import os

SETTINGS_KEY = "settings.json.gz"
# gzip-compressed JSON (qhub/values/packed.py): it lists every user with their groups.
SETTINGS_FILE = "/etc/conda-store/settings.json.gz"
AUTH_SECRET_ENV = "CONDA_STORE_AUTH_SECRET"
CLIENT_SECRET_ENV = "CONDA_STORE_OAUTH_CLIENT_SECRET"


def qhub_role_bindings(settings, username):
    """conda-store role bindings of one hub user: own namespace admin, groups developer, shared viewer."""
    groups = settings["users"].get(username, [])
    if settings["admin_group"] in groups:
        return {"*/*": ["admin"]}
    bindings = {f"{settings['filesystem_namespace']}/*": ["viewer"], f"{username}/*": ["admin"]}
    for group in groups:
        bindings[f"{group}/*"] = ["developer"]
    return bindings


def qhub_authentication_class(settings):
    """JupyterHub OAuth login whose tokens carry qhub_role_bindings."""
    from conda_store_server.server import schema as auth_schema
    from conda_store_server.server.auth import JupyterHubOAuthAuthentication

    class QHubHubAuthentication(JupyterHubOAuthAuthentication):
        async def authenticate(self, request):
            oauth_token = self._get_oauth_token(request)
            if oauth_token is None:
                return None
            username = self._get_username(oauth_token)
            return auth_schema.AuthenticationToken(
                primary_namespace=username, role_bindings=qhub_role_bindings(settings, username),
            )

    return QHubHubAuthentication


def qhub_metrics_route(path):
    """conda-store's own Prometheus handler at `path`, as an additional route of the server.

    conda-store's metrics router serves {url_prefix}/metrics and {url_prefix}/celery (Celery
    workers' stats and tasks) without authentication, and the public Ingress sends all of
    url_prefix to conda-store; so that router stays off, and the metrics alone are served at a
    path outside the prefix, which only in-cluster clients reach.
    """
    from conda_store_server._internal.server.views.metrics import prometheus_metrics
    from fastapi import Request
    from fastapi.responses import PlainTextResponse

    async def conda_store_metrics(request):
        return PlainTextResponse(await prometheus_metrics(conda_store=request.state.conda_store))

    # traitlets compiles config files under its own `from __future__ import annotations`, so an
    # annotation written here would be the string "Request", which FastAPI cannot resolve and
    # would take for a query parameter: the class itself tells FastAPI to pass the request.
    conda_store_metrics.__annotations__["request"] = Request
    return (path, "get", conda_store_metrics)


def qhub_configure(c, settings, environ):
    """Apply settings and secrets to a conda-store traitlets config."""
    from conda_store_server._internal import schema
    from conda_store_server.storage import LocalStorage

    c.CondaStore.store_directory = settings["store_directory"]
    c.CondaStore.filesystem_namespace = settings["filesystem_namespace"]
    c.CondaStore.database_url = settings["database_url"]
    c.CondaStore.default_uid = settings["default_uid"]
    c.CondaStore.default_gid = settings["default_gid"]
    c.CondaStore.default_permissions = settings["default_permissions"]
    # Lockfile and YAML only: conda-pack and installers fill the volume and are served unauthenticated.
    c.CondaStore.build_artifacts = [schema.BuildArtifactType.LOCKFILE, schema.BuildArtifactType.YAML]
    c.CondaStore.storage_class = LocalStorage
    c.LocalStorage.storage_path = settings["storage_path"]
    c.LocalStorage.storage_url = settings["url_prefix"] + "/storage"

    c.CondaStoreServer.address = "0.0.0.0"
    c.CondaStoreServer.port = settings["port"]
    c.CondaStoreServer.url_prefix = settings["url_prefix"]
    c.CondaStoreServer.behind_proxy = True
    c.CondaStoreServer.authentication_class = qhub_authentication_class(settings)
    c.CondaStoreServer.enable_metrics = False
    c.CondaStoreServer.additional_routes = [qhub_metrics_route(settings["metrics_path"])]
    c.CondaStoreWorker.watch_paths = settings["watch_paths"]

    # One fixed secret: it signs conda-store's tokens and the session holding the OAuth state.
    c.AuthenticationBackend.secret = environ[AUTH_SECRET_ENV]
    c.JupyterHubOAuthAuthentication.authorize_url = settings["authorize_url"]
    c.JupyterHubOAuthAuthentication.access_token_url = settings["access_token_url"]
    c.JupyterHubOAuthAuthentication.user_data_url = settings["user_data_url"]
    c.JupyterHubOAuthAuthentication.client_id = settings["client_id"]
    c.JupyterHubOAuthAuthentication.client_secret = environ[CLIENT_SECRET_ENV]
    c.JupyterHubOAuthAuthentication.oauth_callback_url = settings["oauth_callback_url"]


if "c" in globals():  # loaded by conda-store as its config file
    with gzip.open(SETTINGS_FILE, "rt", encoding="utf-8") as _file:
        qhub_configure(c, json.load(_file), os.environ)  # noqa: F821 - `c` comes from traitlets
