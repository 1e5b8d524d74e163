"""The hub-side configuration, executed as the hub executes it (tests/support/hub.py), with
values QHub renders from hand-made cluster facts: who sees which profile, the user's identity and
home, login and services. tests/test_gpu_end_to_end.py does the same with planned values.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest
from traitlets.config import Config

from qhub.config import QHubConfig, load_file
from qhub.values.hub_config import source
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef
from qhub.values.jupyterhub import CONFIG_MAP_LIMIT, HUB_DATA_PATH, HubFacts, HubFiles, HubSecrets, hub_files, jupyterhub_values
from tests.conftest import FIXTURES, ROOT
from tests.support import hub
from tests.support.hub import profiles_of, spawn, spawner

SELECTORS = {"general": {"pool": "general"}, "user": {"pool": "user"}, "gpu": {"accelerator": "nvidia-a10"}}
DASK = HubIntegration(
    services=(HubService("dask-gateway", SecretKeyRef("qhub-dask-gateway", "token"), url="http://dask-gateway:8000"),),
    volumes=({"name": "conda", "persistentVolumeClaim": {"claimName": "conda-store"}},),
    volume_mounts=({"name": "conda", "mountPath": "/home/conda"},),
    server_token_scopes=("access:services!service=dask-gateway",),
)


FACTS = HubFacts(
    general_selector=SELECTORS["general"], user_selector=SELECTORS["user"], gpu_selector=SELECTORS["gpu"],
    shared_claim="qhub-shared",
    secrets=HubSecrets("qhub-hub-secrets", oauth_client_secret_key="k", password_key="p", admin_password_key="a"),
    oauth_client_id="client-id",
)


def render(config: QHubConfig) -> tuple[dict[str, Any], HubFiles]:
    """The chart values and the ConfigMap's files, as the platform makes them."""
    files = hub_files(config, FACTS, [DASK])
    # Through JSON, as the values travel to the hub (Helm -> Secret -> YAML).
    return json.loads(json.dumps(jupyterhub_values(config, FACTS, [DASK], files))), files


def hub_config(rendered: tuple[dict[str, Any], HubFiles]) -> Config:
    return hub.hub_config(*rendered)


@pytest.fixture(autouse=True)
def offline_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    hub.offline_kubeconfig(monkeypatch)


@pytest.fixture(scope="module")
def happy() -> tuple[QHubConfig, Config]:
    config = load_file(FIXTURES / "configs" / "existing.platform.yaml").config
    return config, hub_config(render(config))


def test_profiles_shown_by_user_and_group(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    assert profiles_of(c, "alice") == ["Small Instance", "GPU"]            # admin group
    assert profiles_of(c, "bob") == ["Small Instance", "Climate Large"]    # secondary group climate
    assert profiles_of(c, "carol") == ["Small Instance", "Carol Only"]     # named user


def test_default_profile_preselected(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    listed = c.KubeSpawner.profile_list(spawner(c, "bob"))
    assert [p["display_name"] for p in listed if p.get("default")] == ["Small Instance"]
    assert all("users" not in p and "groups" not in p for p in listed)


def test_pod_runs_as_the_user_with_their_groups(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    pod = spawn(c, "bob")
    security = pod["spec"]["securityContext"]
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 10000002
    assert container["securityContext"]["runAsGroup"] == 10000100
    assert security["fsGroup"] == 10000100
    assert security["supplementalGroups"] == [10000102]
    assert pod["spec"]["nodeSelector"] == SELECTORS["user"]


def test_pod_mounts_home_shared_folders_and_integrations(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    pod = spawn(c, "bob")
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/home/bob"]["subPath"] == "home/bob" and mounts["/home/bob"]["name"] == "shared"
    assert mounts["/home/shared"]["subPath"] == "home/shared"
    assert "/home/conda" in mounts
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["shared"]["persistentVolumeClaim"]["claimName"] == "qhub-shared"
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["HOME"] == "/home/bob"


def test_init_container_prepares_home_and_group_folders(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    init = spawn(c, "bob")["spec"]["initContainers"][0]
    assert init["name"] == "qhub-home" and init["securityContext"]["runAsUser"] == 0
    assert init["args"] == ["/mnt/shared", "bob", "10000002", "10000100", "users:10000100", "climate:10000102"]
    script = init["command"][2]
    assert 'chmod 0700 "$home"' in script and 'chmod 2770 "$folder"' in script


def test_home_init_script_sets_modes(happy: tuple[QHubConfig, Config], tmp_path: Any) -> None:
    """Run the init script itself (chown is a no-op stand-in: tests do not run as root)."""
    import subprocess
    _, c = happy
    init = spawn(c, "bob")["spec"]["initContainers"][0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chown").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "chown").chmod(0o755)
    args = [str(tmp_path), *init["args"][1:]]
    subprocess.run([*init["command"][:3], "qhub-home", *args], check=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert oct((tmp_path / "home" / "bob").stat().st_mode & 0o7777) == "0o700"
    assert oct((tmp_path / "home" / "shared" / "climate").stat().st_mode & 0o7777) == "0o2770"


def test_profile_override_applied_with_seed_spellings_mapped(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    pod = spawn(c, "carol", "small-instance")
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources["requests"]["cpu"] == 0.5 and resources["limits"]["cpu"] == 1
    assert pod["spec"]["containers"][0]["image"] == "quay.io/jupyter/scipy-notebook:2025-11-17"
    climate = spawn(c, "bob", "climate-large")
    assert climate["spec"]["containers"][0]["image"] == "quay.io/jupyter/pangeo-notebook:2025-11-17"


def test_profile_of_another_group_is_refused(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    with pytest.raises(ValueError):
        spawn(c, "carol", "climate-large")


def test_gpu_profile_lands_on_gpu_nodes(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    pod = spawn(c, "alice", "gpu")
    assert pod["spec"]["nodeSelector"] == SELECTORS["gpu"]
    assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    # identity still the user's, whatever the profile
    assert pod["spec"]["containers"][0]["securityContext"]["runAsUser"] == 10000001


def test_unlisted_user_cannot_spawn(happy: tuple[QHubConfig, Config]) -> None:
    _, c = happy
    with pytest.raises(ValueError, match="not in security.users"):
        spawn(c, "mallory")


def test_github_login_allows_listed_users_and_makes_admins(happy: tuple[QHubConfig, Config], monkeypatch: pytest.MonkeyPatch) -> None:
    from oauthenticator.github import GitHubOAuthenticator
    _, c = happy
    monkeypatch.setenv("OAUTH_CLIENT_ID", "client-id")
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "client-secret")
    assert c.JupyterHub.authenticator_class == "github"
    auth = GitHubOAuthenticator(config=c)
    assert auth.allowed_users == {"alice", "bob", "carol"}
    assert auth.admin_users == {"alice"}
    assert auth.oauth_callback_url == "https://hub.example.org/hub/oauth_callback"
    # As after login: the hub marks admin_users admin first, then checks the allow list.
    assert asyncio.run(auth.check_allowed("bob", {"name": "bob", "admin": False, "auth_state": {}}))
    assert not asyncio.run(auth.check_allowed("mallory", {"name": "mallory", "admin": False, "auth_state": {}}))
    assert c.JupyterHub.load_groups["climate"] == {"users": ["bob"]}


def test_services_and_server_token_scopes(happy: tuple[QHubConfig, Config], monkeypatch: pytest.MonkeyPatch) -> None:
    _, c = happy
    (service,) = c.JupyterHub.services
    assert service["name"] == "dask-gateway" and service["url"] == "http://dask-gateway:8000"
    assert c.Spawner.server_token_scopes == ["users:activity!user", "access:servers!server", "access:services!service=dask-gateway"]
    assert {"name": "user", "scopes": ["self", "access:services!service=dask-gateway"]} in c.JupyterHub.load_roles


def test_password_login_reads_passwords_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    data = config.model_dump(by_alias=False)
    data["security"]["authentication"] = {"type": "password"}
    config = QHubConfig.model_validate(data)
    monkeypatch.setenv("QHUB_HUB_PASSWORD", "user-password-1")
    monkeypatch.setenv("QHUB_HUB_ADMIN_PASSWORD", "a" * 40)
    c = hub_config(render(config))
    auth = SharedPasswordAuthenticator(config=c)
    assert auth.user_password == "user-password-1" and auth.admin_users == {"amara-okafor"}
    assert asyncio.run(auth.authenticate(None, {"username": "lin-wei", "password": "user-password-1"})) is not None
    assert asyncio.run(auth.authenticate(None, {"username": "lin-wei", "password": "wrong-password"})) is None


def test_people_and_profiles_reach_the_hub_by_file_not_values(happy: tuple[QHubConfig, Config]) -> None:
    config, _ = happy
    values, files = render(config)
    assert "custom" not in values
    text = json.dumps(values)
    assert "carol" not in text and "10000002" not in text
    mounts = {m["mountPath"]: m for m in values["hub"]["extraVolumeMounts"]}
    assert mounts[HUB_DATA_PATH]["subPath"] == "qhub_hub.json.gz"
    assert files.module == source()
    assert set(json.loads(gzip.decompress(files.data))["users"]) == {"alice", "bob", "carol"}


def test_hub_restarts_when_its_data_changes(happy: tuple[QHubConfig, Config]) -> None:
    config, _ = happy
    data = config.model_dump(by_alias=False)
    data["security"]["users"]["dave"] = {"uid": 10000042, "primary_group": "users"}
    changed = QHubConfig.model_validate(data)
    before, after = render(config)[0], render(changed)[0]
    key = "qhub.dev/hub-config-sha256"
    assert before["hub"]["annotations"][key] != after["hub"]["annotations"][key]


def test_ten_thousand_users_fit_one_config_map(happy: tuple[QHubConfig, Config]) -> None:
    """The ConfigMap limit is 1 MiB; 10,000 users with long (e-mail) names stay well inside it."""
    config, _ = happy
    data = config.model_dump(by_alias=False)
    groups = data["security"]["groups"]
    for index in range(200):
        groups[f"team-{index:03d}"] = {"gid": 20_000_000 + index}
    names = list(groups)
    for index in range(10_000):
        data["security"]["users"][f"first.last{index:05d}@example-university.edu"] = {
            "uid": 30_000_000 + index, "primary_group": "users",
            "secondary_groups": [names[index % len(names)], names[(index * 7 + 3) % len(names)]],
        }
    files = hub_files(QHubConfig.model_validate(data), FACTS, [DASK])
    assert len(files.module.encode()) + len(files.data) < CONFIG_MAP_LIMIT // 4
