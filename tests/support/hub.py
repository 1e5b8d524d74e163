"""The hub-side configuration, executed as the hub executes it, with the real jupyterhub 5.5.0,
jupyterhub-kubespawner 7.0.0 and oauthenticator 17.4.0.

z2jh's jupyterhub_config.py first turns the chart values into spawner settings, then exec()s
each file of jupyterhub_config.d with `c` and `get_config` in scope. `hub_config` does the same
with values QHub rendered (by hand in tests/test_hub_config.py, or taken from a plan): the part
of z2jh's own translation QHub relies on (user pod node selector, image, extra volumes) is
reproduced, then QHub's module is compiled and executed from the file the ConfigMap ships,
reading its data file (also from the ConfigMap) at the path the values give the hub.
`spawn` then runs a spawn in the hub's order: pre_spawn_hook, then the profile
(KubeSpawner.load_user_options), then the pod manifest.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from traitlets.config import Config

with warnings.catch_warnings():
    # kubespawner 7.0.0 passes traitlets metadata the old way (a DeprecationWarning at import).
    warnings.simplefilter("ignore", DeprecationWarning)
    from kubespawner import KubeSpawner

from qhub.values.jupyterhub import HUB_CONFIG_PATH, HUB_DATA_ENV, HUB_DATA_PATH, HubFiles
from tests.conftest import FIXTURES
from tests.support.loop import run


def hub_config(values: dict[str, Any], files: HubFiles) -> Config:
    """`c` after z2jh's jupyterhub_config.py and QHub's jupyterhub_config.d file."""
    c = Config()
    single = values["singleuser"]
    # z2jh 4.4.0 jupyterhub_config.py, the settings QHub relies on:
    c.JupyterHub.services = []
    c.JupyterHub.load_roles = []
    c.KubeSpawner.image = f"{single['image']['name']}:{single['image']['tag']}"
    c.KubeSpawner.node_selector = dict(single["nodeSelector"])
    c.KubeSpawner.volumes = list(single["storage"]["extraVolumes"])
    c.KubeSpawner.volume_mounts = list(single["storage"]["extraVolumeMounts"])

    def get_config(key: str, default: Any = None) -> Any:  # z2jh.get_config
        value: Any = values
        for level in key.split("."):
            if not isinstance(value, dict) or level not in value:
                return default
            value = value[level]
        return value

    namespace = {"c": c, "get_config": get_config, "__name__": "__main__"}
    # The hub's environment: the data file's path as the values set it (here a temporary copy
    # of the ConfigMap's file), and what the values take from Secrets (service tokens,
    # passwords) as stand-ins, unless the test set them itself.
    env = {e["name"]: e["value"] for e in values["hub"]["extraEnv"] if "value" in e}
    assert env[HUB_DATA_ENV] == HUB_DATA_PATH
    from_secrets = {e["name"]: f"secret-{e['name'].lower()}" for e in values["hub"]["extraEnv"]
                    if "valueFrom" in e and e["name"] not in os.environ}
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, os.path.basename(HUB_DATA_PATH))
        with open(data_file, "wb") as out:
            out.write(files.data)
        with mock.patch.dict(os.environ, {**from_secrets, HUB_DATA_ENV: data_file}):
            exec(compile(files.module, HUB_CONFIG_PATH, "exec"), namespace)  # noqa: S102 - what the hub does
    return c


def offline_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    """KubeSpawner builds its API client at construction; it never connects in these tests.
    Test modules make this an autouse fixture."""
    import kubernetes_asyncio.config.kube_config as kube_config
    # Read when the client loads its config (KUBECONFIG itself is read at import).
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(FIXTURES / "kubeconfig-offline.yaml"))


def _user(name: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, id=1, url=f"/user/{name}/", escaped_name=name)


def spawner(c: Config, name: str) -> KubeSpawner:
    """A KubeSpawner for `name` (constructed on a running loop, as in the hub)."""

    async def make() -> KubeSpawner:
        return KubeSpawner(config=c, user=_user(name), _mock=True)

    return run(make())


def spawn(c: Config, name: str, profile: str | None = None) -> dict[str, Any]:
    """The pod a spawn would create, as its API JSON, after the hub's steps in the hub's order."""

    async def manifest() -> Any:
        s = KubeSpawner(config=c, user=_user(name), _mock=True)
        s.run_pre_spawn_hook()
        s.user_options = {"profile": profile} if profile else {}
        await s.load_user_options()
        pod = await s.get_pod_manifest()
        return s.api.api_client.sanitize_for_serialization(pod)

    return run(manifest())


def profiles_of(c: Config, name: str) -> list[str]:
    """Display names of the profiles the spawn page shows `name`."""
    return [p["display_name"] for p in c.KubeSpawner.profile_list(spawner(c, name))]
