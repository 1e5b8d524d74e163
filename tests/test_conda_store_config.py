"""conda-store's settings file and the role-binding rule of QHub's config module, as plain data.

The module itself runs under the real conda-store-server in tests/test_conda_store_server.py;
here are only what that run cannot reach: a login of someone the config does not list (the hub
lets no such user in), and the size of the settings for 10,000 users.
"""

from __future__ import annotations

import json

from qhub.config import load_file
from qhub.values import conda_store, conda_store_config
from qhub.values.packed import pack_json
from tests.conftest import ROOT


def _settings() -> dict:
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    return json.loads(json.dumps(conda_store.server_settings(config, hub_internal_url="http://hub.dev:8081")))


def test_someone_unlisted_gets_only_their_own_namespace() -> None:
    assert conda_store_config.qhub_role_bindings(_settings(), "stranger") == {"shared/*": ["viewer"], "stranger/*": ["admin"]}


def test_ten_thousand_users_fit_the_settings_configmap() -> None:
    """Role bindings list every user's groups; compressed, 10,000 users stay far below 1 MiB."""
    settings = _settings()
    settings["users"] = {f"person{index:05d}@example.org": sorted({"users", f"team{index % 200:03d}", f"team{index * 7 % 200:03d}"})
                         for index in range(10_000)}
    assert len(pack_json(settings, "settings")) < 256 * 1024
