"""The hub of every plan the repository promises, run as the hub pod runs it (tests/support/hub.py):
z2jh 4.4.0's own jupyterhub_config.py with the hub image's packages, every user logged in through
the authenticator's own pages, and every profile spawned up to the pod the hub sends to Kubernetes.

What the hub did is checked against the QHub file: who may log in and who is admin, which
profiles each user is offered, and each pod's unix identity, home and group folders, resources,
image, node placement and dask-gateway settings. GPU placement is tests/test_gpu_end_to_end.py's.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pytest

from qhub.config import QHubConfig, load_file
from qhub.config.security import Auth0Auth, GitHubAuth, PasswordAuth
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef
from qhub.values.jupyterhub import (
    CONFIG_MAP_LIMIT, HUB_CONFIG_KEY, HUB_CONFIG_MAP, HUB_CONFIG_PATH, HUB_DATA_KEY, HUB_DATA_PATH, HubFacts, HubSecrets,
    hub_files, jupyterhub_values,
)
from tests.conftest import FIXTURES
from tests.support.hub import (
    GPU_TOLERATION, STALE_USER, HubRun, group_selector, hub_job, hub_labels, hub_run, logins, run_hub_report,
    upcoming_labels,
)

AUTHENTICATORS = {
    GitHubAuth: "oauthenticator.github.GitHubOAuthenticator",
    Auth0Auth: "oauthenticator.auth0.Auth0OAuthenticator",
    PasswordAuth: "jupyterhub.authenticators.shared.SharedPasswordAuthenticator",
}
NOTEBOOK = "notebook"  # KubeSpawner's name for the user's container


@pytest.fixture(params=hub_labels(), scope="module")
def run(request: pytest.FixtureRequest) -> HubRun:
    return hub_run(request.param, upcoming=upcoming_labels(request, "run"))


def _groups(config: QHubConfig, user: str) -> list[str]:
    entry = config.security.users[user]
    return list(dict.fromkeys([entry.primary_group, *entry.secondary_groups]))


def _visible(config: QHubConfig, user: str) -> list[str]:
    """Display names of the profiles the QHub file shows `user`, in its order."""
    groups = set(_groups(config, user))
    return [p.display_name for p in config.profiles.jupyterlab
            if not (p.users or p.groups) or user in p.users or groups & set(p.groups)]


def _pods(run: HubRun) -> list[tuple[str, str, dict[str, Any]]]:
    """(user, profile, pod) of every spawn of an offered profile."""
    return [(user, profile, run.pod(user, profile)) for user in run.config.security.users for profile in run.spawns(user)]


def _notebook(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == NOTEBOOK]
    return container  # type: ignore[no-any-return]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def jupyterhub_bytes(value: Any) -> int:
    """A memory size as JupyterHub reads mem_limit / mem_guarantee (ByteSpecification: K, M,
    G, T are powers of 1024), so the QHub file's figure can be compared with the pod's bytes."""
    text = str(value).strip()
    powers = {"K": 1, "M": 2, "G": 3, "T": 4}
    if text[-1:].upper() in powers:
        return int(float(text[:-1]) * 1024 ** powers[text[-1].upper()])
    return int(float(text))


def test_jupyterhub_takes_the_configuration(run: HubRun) -> None:
    """JupyterHub itself loaded the users, admins, groups and services (it refuses bad ones)."""
    config, hub = run.config, run.report["hub"]
    assert hub["authenticator"] == AUTHENTICATORS[type(config.security.authentication)]
    assert hub["allowed_users"] == sorted(config.security.users)
    assert hub["admin_users"] == sorted(config.security.members("admin"))
    # JupyterHub puts every allowed user into its database at startup, admins marked.
    admins = set(config.security.members("admin"))
    assert hub["users"] == {user: {"admin": user in admins} for user in config.security.users}
    assert hub["groups"] == {g: sorted(config.security.members(g)) for g in config.security.groups}
    assert {"dask-gateway", "conda-store"} <= set(hub["services"])
    assert run.report["kubernetes_unexpected"] == []


def test_listed_users_log_in_and_admins_are_the_admin_group(run: HubRun) -> None:
    config = run.config
    admins = set(config.security.members("admin"))
    for user in config.security.users:
        login = run.report["logins"][user]
        assert login["logged_in"], (user, login)
        assert login["admin"] == (user in admins), user
        assert login["groups"] == sorted(_groups(config, user)), user


def test_oauth_login_goes_to_the_provider_with_the_hub_client(run: HubRun) -> None:
    """The authorize redirect and the token exchange the authenticator made, as the provider
    saw them: the hub's client id, its callback, and the client secret from its environment."""
    auth = run.config.security.authentication
    if isinstance(auth, PasswordAuth):
        pytest.skip("password login")
    env = run.container.env
    if isinstance(auth, GitHubAuth):
        authorize_url, token_url = "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token"
        assert env["OAUTH_CLIENT_ID"] == auth.config.client_id
    else:
        authorize_url, token_url = f"https://{env['AUTH0_DOMAIN']}/authorize", f"https://{env['AUTH0_DOMAIN']}/oauth/token"
        if auth.config.client_id:
            assert env["OAUTH_CLIENT_ID"] == auth.config.client_id
    callback = auth.config.oauth_callback_url or f"https://{run.config.domain}/hub/oauth_callback"
    for user in run.config.security.users:
        login = run.report["logins"][user]
        assert login["authorize"]["url"] == authorize_url
        assert login["authorize"]["client_id"] == env["OAUTH_CLIENT_ID"]
        assert login["authorize"]["redirect_uri"] == callback
        if isinstance(auth, Auth0Auth):
            assert login["authorize"]["scope"] == " ".join(auth.config.scope)
        (token,) = login["token_requests"]
        assert token["url"] == token_url and token["client_id"] == env["OAUTH_CLIENT_ID"] and token["redirect_uri"] == callback
        assert token["client_secret_from_env"], "the token request must carry OAUTH_CLIENT_SECRET from the hub Secret"
    assert env["OAUTH_CLIENT_SECRET"]


def test_others_are_refused(run: HubRun) -> None:
    """Someone not listed, a wrong password or an unverified Auth0 address: no session, no user;
    and a user the hub still knows but the file no longer lists cannot spawn."""
    refused = {label: login for label, login in run.report["logins"].items() if label not in run.config.security.users}
    auth = run.config.security.authentication
    expected = {"unlisted", *(["wrong-password"] if isinstance(auth, PasswordAuth) else []),
                *(["unverified-email"] if isinstance(auth, Auth0Auth) else [])}
    assert set(refused) == expected
    for label, login in refused.items():
        assert login["status"] == 403 and not login["logged_in"], label
    unlisted = next(item["user"] for item in logins(run.config, run.container) if item["label"] == "unlisted")
    assert unlisted not in run.report["known_users"]
    assert run.report["known_users"] == sorted([*run.config.security.users, STALE_USER])
    for result in run.report["stale_users"][STALE_USER].values():
        assert "not in security.users" in result["error"]


def test_each_user_is_offered_the_profiles_of_their_groups(run: HubRun) -> None:
    config = run.config
    configured_default = next((p.display_name for p in config.profiles.jupyterlab if p.default), None)
    for user in config.security.users:
        offered = run.offered(user)
        names = [p["display_name"] for p in offered]
        assert names == _visible(config, user), user
        defaults = [p["display_name"] for p in offered if p["default"]]
        assert defaults == [configured_default if configured_default in names else names[0]], user


def test_a_profile_not_offered_is_refused(run: HubRun) -> None:
    for user in run.config.security.users:
        offered = {p["slug"] for p in run.offered(user)}
        for slug, result in run.report["users"][user]["spawns"].items():
            if slug not in offered:
                assert "No such profile" in result["error"], (user, slug)


def test_pods_run_as_the_user_with_their_groups(run: HubRun) -> None:
    security = run.config.security
    for user, profile, pod in _pods(run):
        entry = security.users[user]
        gid = security.groups[entry.primary_group].gid
        secondary = [g for g in _groups(run.config, user) if g != entry.primary_group]
        context = _notebook(pod)["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (entry.uid, gid), (user, profile)
        assert pod["spec"]["securityContext"]["fsGroup"] == gid, (user, profile)
        assert pod["spec"]["securityContext"].get("supplementalGroups", []) == [security.groups[g].gid for g in secondary], (user, profile)


def test_pods_mount_the_home_and_group_folders_from_the_shared_claim(run: HubRun) -> None:
    security, namespace = run.config.security, run.config.namespace
    for user, profile, pod in _pods(run):
        container = _notebook(pod)
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        home, shared = mounts[f"/home/{user}"], mounts["/home/shared"]
        assert home["subPath"] == f"home/{user}" and shared["subPath"] == "home/shared", (user, profile)
        assert home["name"] == shared["name"]
        claim = volumes[home["name"]]["persistentVolumeClaim"]["claimName"]
        run.object("PersistentVolumeClaim", claim, namespace)  # the plan makes it
        assert container["workingDir"] == f"/home/{user}" and _env(container)["HOME"] == f"/home/{user}"
        # The init container makes the home (700) and group folders (2770) on the same volume.
        (init,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "qhub-home"]
        entry = security.users[user]
        groups = [f"{g}:{security.groups[g].gid}" for g in _groups(run.config, user)]
        assert init["args"] == ["/mnt/shared", user, str(entry.uid), str(security.groups[entry.primary_group].gid), *groups]
        assert init["volumeMounts"] == [{"name": home["name"], "mountPath": "/mnt/shared"}]


def test_every_pod_volume_is_an_object_of_the_plan(run: HubRun) -> None:
    """Each mount has its volume, and each claim or ConfigMap a volume names is planned."""
    namespace = run.config.namespace
    for user, profile, pod in _pods(run):
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        for container in [*pod["spec"]["containers"], *pod["spec"]["initContainers"]]:
            for mount in container.get("volumeMounts") or []:
                assert mount["name"] in volumes, (user, profile, mount)
        for volume in volumes.values():
            if "persistentVolumeClaim" in volume:
                run.object("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"], namespace)
            if "configMap" in volume:
                run.object("ConfigMap", volume["configMap"]["name"], namespace)


def test_profiles_set_resources_and_image(run: HubRun) -> None:
    config = run.config
    profiles = {p.display_name: p for p in config.profiles.jupyterlab}
    for user, name, pod in _pods(run):
        override = profiles[name].kubespawner_override
        container = _notebook(pod)
        limits, requests = container["resources"].get("limits", {}), container["resources"].get("requests", {})
        for key, where, field in (("cpu_limit", limits, "cpu"), ("cpu_guarantee", requests, "cpu")):
            if key in override:
                assert float(where[field]) == float(override[key]), (user, name, key)
        for key, where in (("mem_limit", limits), ("mem_guarantee", requests)):
            if key in override:
                assert int(where["memory"]) == jupyterhub_bytes(override[key]), (user, name, key)
        assert container["image"] == override.get("image", config.default_images.jupyterlab), (user, name)


def test_cpu_profiles_stay_on_the_user_group(run: HubRun) -> None:
    profiles = {p.display_name: p for p in run.config.profiles.jupyterlab}
    for user, name, pod in _pods(run):
        if profiles[name].gpus:
            continue  # tests/test_gpu_end_to_end.py
        assert pod["spec"]["nodeSelector"] == group_selector(run.config, "user"), (user, name)
        assert GPU_TOLERATION not in (pod["spec"].get("tolerations") or [])
        assert "nvidia.com/gpu" not in (_notebook(pod)["resources"].get("limits") or {})


def _service_of(run: HubRun, host: str, port: int | None) -> None:
    """`host` (<service>.<namespace>) is a planned Service that listens on `port`."""
    service, _, namespace = host.partition(".")
    found = run.object("Service", service, namespace or run.config.namespace)
    assert port in [p["port"] for p in found["spec"]["ports"]], (host, port)


def test_pods_reach_dask_gateway_as_the_user(run: HubRun) -> None:
    """dask_gateway.Gateway() in a user server: its address and proxy address are planned
    Services, it authenticates with the server's JupyterHub token, and that token may use the
    dask-gateway service."""
    gateway = run.report["hub"]["services"]["dask-gateway"]
    gateway_url = urlparse(gateway["url"])
    _service_of(run, gateway_url.hostname or "", gateway_url.port)
    for user, profile, pod in _pods(run):
        env = _env(_notebook(pod))
        assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub", (user, profile)
        address, proxy = urlparse(env["DASK_GATEWAY__ADDRESS"]), urlparse(env["DASK_GATEWAY__PROXY_ADDRESS"])
        assert address.path == "/services/dask-gateway" and proxy.scheme == "gateway"
        _service_of(run, address.hostname or "", address.port)
        _service_of(run, proxy.hostname or "", proxy.port)
        scopes = run.spawns(user)[profile]["token_scopes"]
        assert "access:services!service=dask-gateway" in scopes, (user, profile, scopes)


def test_home_init_script_sets_modes(tmp_path: Path) -> None:
    """The init container's script as the hub put it into a pod, run on a folder (chown is a
    no-op stand-in: tests do not own the uids)."""
    run = hub_run("stack-staging")
    pod = run.pod("lin-wei", "Small Instance")
    (init,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "qhub-home"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chown").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "chown").chmod(0o755)
    subprocess.run([*init["command"], str(tmp_path), *init["args"][1:]], check=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert oct((tmp_path / "home" / "lin-wei").stat().st_mode & 0o7777) == "0o700"
    assert oct((tmp_path / "home" / "shared" / "climate").stat().st_mode & 0o7777) == "0o2770"


def _as_the_container(init: dict[str, Any], capabilities: list[str]) -> list[str]:
    """setpriv: the init container's user and group, no supplementary groups, no new privileges,
    and only these capabilities (a root process gets its bounding set when it executes)."""
    context = init["securityContext"]
    added = ",".join(f"+{name.lower()}" for name in capabilities)
    return ["setpriv", f"--reuid={context['runAsUser']}", f"--regid={context['runAsGroup']}", "--clear-groups",
            "--no-new-privs", f"--bounding-set=-all,{added}"]


def test_home_init_script_keeps_the_setgid_bit_with_the_containers_capabilities(tmp_path: Path) -> None:
    """The script the hub put into the pod, run by this machine's kernel as the container runs
    it: root, its group only, exactly the capabilities it adds back, the real chown. Root is not
    in the group folder's group, so the kernel keeps `chmod 2770`'s setgid bit only with FSETID;
    the same run without FSETID shows it dropped."""
    if os.geteuid() != 0:
        pytest.skip("runs the script as the container's root with its capabilities: needs root, as CI has")
    pod = hub_run("stack-staging").pod("lin-wei", "Small Instance")
    (init,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "qhub-home"]
    assert init["securityContext"]["capabilities"]["drop"] == ["ALL"]
    added = list(init["securityContext"]["capabilities"]["add"])
    _, user, uid, gid, *group_specs = init["args"]
    group, group_gid = group_specs[0].split(":")

    def run_script(root: Path, capabilities: list[str]) -> tuple[os.stat_result, os.stat_result]:
        root.mkdir()
        subprocess.run([*_as_the_container(init, capabilities), *init["command"], str(root), *init["args"][1:]],
                       check=True, env={"PATH": "/usr/bin:/bin"})
        return (root / "home" / user).stat(), (root / "home" / "shared" / group).stat()

    home, folder = run_script(tmp_path / "as-planned", added)
    assert (home.st_mode & 0o7777, home.st_uid, home.st_gid) == (0o700, int(uid), int(gid))
    assert (folder.st_mode & 0o7777, folder.st_uid, folder.st_gid) == (0o2770, 0, int(group_gid))
    _, folder = run_script(tmp_path / "without-fsetid", [name for name in added if name != "FSETID"])
    assert folder.st_mode & 0o7777 == 0o770


# The hub-side module before the fix: it spread KubeSpawner.volume_mounts into a list, which
# for z2jh's dict gives the dict's keys. Restored by a later file of jupyterhub_config.d (z2jh
# executes them all in one namespace), so the module itself stays as shipped.
_PRE_FIX_MOUNTS = "def with_volume_mount(mounts, key, mount):\n    return [*mounts, mount]\n"


def test_the_hub_run_catches_a_list_made_of_z2jh_volume_mounts() -> None:
    """Guards this harness: with the old list spread, every spawn of the real hub fails in
    get_pod_manifest, as it did in the cluster (an imitation of z2jh's config let it through)."""
    base = hub_run("stack-staging")
    files = {**base.container.files, str(PurePosixPath(HUB_CONFIG_PATH).with_name("60-pre-fix.py")): _PRE_FIX_MOUNTS.encode()}
    container = dataclasses.replace(base.container, files=files)
    user = next(iter(base.config.security.users))
    job = {"argv": container.argv, "logins": [i for i in logins(base.config, container) if i["label"] == user]}
    spawns = run_hub_report("stack-staging with the pre-fix module", container, job)["users"][user]["spawns"]
    assert spawns and all("Expected object of type 'dict' (or 'V1VolumeMount') but got 'str'" in s.get("error", "")
                          for s in spawns.values()), spawns


def test_a_forked_hub_reports_what_a_hub_process_of_its_own_reports() -> None:
    """Guards this harness: the hubs of the tests are forked from a process that imported
    JupyterHub before it knew the container's environment (tests/runtimes/fork_server.py). A hub
    started as the pod starts it, in a process of its own, must report exactly the same."""
    forked = hub_run("stack-staging")
    job = hub_job(forked.config, forked.objects, forked.container)
    fresh = run_hub_report("stack-staging, fresh", forked.container, job, fresh=True)
    assert _without_session_ids(fresh) == _without_session_ids(forked.report)


def _without_session_ids(report: Any) -> Any:
    """The report, less what differs between any two runs: the random id of each login session."""
    if isinstance(report, dict):
        return {k: "<random>" if k == "session_id" else _without_session_ids(v) for k, v in report.items()}
    if isinstance(report, list):
        return [_without_session_ids(v) for v in report]
    return report


def test_people_and_profiles_reach_the_hub_by_file_not_values() -> None:
    """Users and profiles are in the hub ConfigMap the Deployment mounts, not in the chart
    values (Helm keeps those in the release, at most 1 MB; the hub reads them from its Secret)."""
    run = hub_run("stack-staging")
    values = base64.b64decode(run.object("Secret", "hub", run.config.namespace)["data"]["values.yaml"]).decode()
    for user, entry in run.config.security.users.items():
        assert user not in values and str(entry.uid) not in values
    data = run.container.files[HUB_DATA_PATH]
    assert set(json.loads(gzip.decompress(data))["users"]) == set(run.config.security.users)


def test_hub_pod_restarts_when_the_mounted_files_change() -> None:
    """The hub pod template carries the checksum of exactly the files its ConfigMap mounts
    (files mounted by subPath do not change in a running pod)."""
    run = hub_run("stack-staging")
    config_map = run.object("ConfigMap", HUB_CONFIG_MAP, run.config.namespace)
    module = config_map["data"][HUB_CONFIG_KEY].encode()
    data = base64.b64decode(config_map["binaryData"][HUB_DATA_KEY])
    deployment = run.object("Deployment", "hub", run.config.namespace)
    annotation = deployment["spec"]["template"]["metadata"]["annotations"]["qhub.dev/hub-config-sha256"]
    assert annotation == hashlib.sha256(module + b"\0" + data).hexdigest()


# Cluster facts for the values functions below, which need no plan.
FACTS = HubFacts(
    general_selector={"pool": "general"}, user_selector={"pool": "user"}, gpu_selector={"accelerator": "nvidia-a10"},
    shared_claim="qhub-shared",
    secrets=HubSecrets("qhub-hub-secrets", oauth_client_secret_key="k", password_key="p", admin_password_key="a"),
    oauth_client_id="client-id",
)
DASK = HubIntegration(services=(HubService("dask-gateway", SecretKeyRef("qhub-dask-gateway", "token"), url="http://dask-gateway:8000"),),
                      server_token_scopes=("access:services!service=dask-gateway",))


def test_hub_checksum_changes_with_its_data() -> None:
    config = load_file(FIXTURES / "configs" / "existing.platform.yaml").config
    data = config.model_dump(by_alias=False)
    data["security"]["users"]["dave"] = {"uid": 10000042, "primary_group": "users"}
    changed = QHubConfig.model_validate(data)
    key = "qhub.dev/hub-config-sha256"
    before, after = (jupyterhub_values(c, FACTS, [DASK])["hub"]["annotations"][key] for c in (config, changed))
    assert before != after


def test_ten_thousand_users_fit_one_config_map() -> None:
    """The ConfigMap limit is 1 MiB; 10,000 users with long (e-mail) names stay well inside it."""
    config = load_file(FIXTURES / "configs" / "existing.platform.yaml").config
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
