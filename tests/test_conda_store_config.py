"""conda-store's config module, executed as conda-store loads it (a traitlets `c` in its globals).

conda-store-server itself is not a test dependency (its server stack is heavy); the three names
the module imports from it are stood in for, so the test checks what the module sets and the
role bindings it grants.
"""

from __future__ import annotations

import asyncio
import enum
import json
import sys
import types

import pytest
from traitlets.config import Config

from qhub.config import load_file
from qhub.values import conda_store, conda_store_config
from qhub.values.packed import pack_json
from tests.conftest import ROOT


class _Token:
    def __init__(self, **fields):
        self.__dict__.update(fields)


class _HubOAuth:
    def _get_oauth_token(self, request):
        return "hub-oauth-token"

    def _get_username(self, token):
        return "lin-wei"


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    artifact = enum.Enum("BuildArtifactType", "LOCKFILE YAML CONDA_PACK CONSTRUCTOR_INSTALLER")
    modules = {
        "conda_store_server": types.ModuleType("conda_store_server"),
        "conda_store_server._internal": types.SimpleNamespace(schema=types.SimpleNamespace(BuildArtifactType=artifact)),
        "conda_store_server.server": types.SimpleNamespace(schema=types.SimpleNamespace(AuthenticationToken=_Token)),
        "conda_store_server.server.auth": types.SimpleNamespace(JupyterHubOAuthAuthentication=_HubOAuth),
        "conda_store_server.storage": types.SimpleNamespace(LocalStorage=type("LocalStorage", (), {})),
        # The metrics route's handler and its FastAPI types (tests/test_security_conda_store.py
        # runs the route in the real server).
        "conda_store_server._internal.server.views.metrics": types.SimpleNamespace(prometheus_metrics=None),
        "fastapi": types.SimpleNamespace(Request=object),
        "fastapi.responses": types.SimpleNamespace(PlainTextResponse=str),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def _run(coroutine):
    """Run a coroutine on a private loop: asyncio.run would unset the thread's loop, which the
    Pulumi engine of later tests in this process relies on."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _settings() -> dict:
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    return json.loads(json.dumps(conda_store.server_settings(config, hub_internal_url="http://hub.dev:8081")))


def _configured(tmp_path, monkeypatch) -> Config:
    settings_file = tmp_path / conda_store_config.SETTINGS_KEY
    settings_file.write_bytes(pack_json(_settings(), "settings"))
    source = conda_store_config.__loader__.get_source(conda_store_config.__name__)
    source = source.replace(conda_store_config.SETTINGS_FILE, str(settings_file))
    monkeypatch.setenv(conda_store_config.AUTH_SECRET_ENV, "fixed-secret")
    monkeypatch.setenv(conda_store_config.CLIENT_SECRET_ENV, "hub-token")
    c = Config()
    exec(compile(source, "conda_store_config.py", "exec"), {"c": c})  # noqa: S102 - conda-store does this
    return c


def test_config_sets_paths_auth_and_fixed_secret(stand_in, tmp_path, monkeypatch) -> None:
    c = _configured(tmp_path, monkeypatch)
    assert c.CondaStore.store_directory == "/home/conda"
    assert c.CondaStoreServer.url_prefix == "/conda-store"
    assert c.CondaStoreWorker.watch_paths == ["/opt/environments"]
    assert c.AuthenticationBackend.secret == "fixed-secret"
    auth = c.JupyterHubOAuthAuthentication
    assert auth.client_id == "service-conda-store" and auth.client_secret == "hub-token"
    assert auth.authorize_url == "https://staging.jupyter.example-lab.org/hub/api/oauth2/authorize"
    assert auth.access_token_url == "http://hub.dev:8081/hub/api/oauth2/token"
    assert auth.oauth_callback_url == "https://staging.jupyter.example-lab.org/conda-store/oauth_callback/"
    assert [a.name for a in c.CondaStore.build_artifacts] == ["LOCKFILE", "YAML"]
    token = _run(c.CondaStoreServer.authentication_class().authenticate(request=None))
    assert token.primary_namespace == "lin-wei"
    assert token.role_bindings == {"shared/*": ["viewer"], "lin-wei/*": ["admin"], "users/*": ["developer"], "climate/*": ["developer"]}


def test_role_bindings_not_everyone_admin() -> None:
    settings = _settings()
    assert conda_store_config.qhub_role_bindings(settings, "amara-okafor") == {"*/*": ["admin"]}
    assert "*/*" not in conda_store_config.qhub_role_bindings(settings, "jonas-berg")
    assert conda_store_config.qhub_role_bindings(settings, "stranger") == {"shared/*": ["viewer"], "stranger/*": ["admin"]}


def test_ten_thousand_users_fit_the_settings_configmap() -> None:
    """Role bindings list every user's groups; compressed, 10,000 users stay far below 1 MiB."""
    settings = _settings()
    settings["users"] = {f"person{index:05d}@example.org": sorted({"users", f"team{index % 200:03d}", f"team{index * 7 % 200:03d}"})
                         for index in range(10_000)}
    assert len(pack_json(settings, "settings")) < 256 * 1024
