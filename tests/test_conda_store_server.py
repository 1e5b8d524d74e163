"""conda-store-server 2025.2.2 runs QHub's conda-store configuration as the conda-store pod does.

For the staging stack and a qhub-ops compat config (e-mail user names), tests/support/conda_store.py
lays out the pod's files from the plan (config module, settings, environment files, the
Secret's values in the environment) and runs the server's and the worker's own commands against
one database; tests/runtimes/conda_store_driver.py says what it fakes (conda, the listening
socket, the Celery loop, the hub's HTTP answers). These tests check what the real server and
worker did with QHub's files: where they listen, which environments the worker registered from
the watch paths, what the hub login sent to the hub, and which role bindings each user got.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest

from qhub.values import conda_store as values
from qhub.values.jupyterhub import HUB_DATA_PATH
from tests.support.conda_store import DEPLOYMENT, CondaStoreRun, conda_store_run
from tests.support.container import container_of, find
from tests.support.hub import HUB_PYTHON

LABELS = ("stack-staging", "compat-config_gcp")

# conda-store's own RBACAuthorizationBackend.authenticated_role_bindings default: every logged-in
# user may view the namespaces "default" (conda-store's default_namespace) and "filesystem".
CONDA_STORE_DEFAULTS = {"default/*": ["viewer"], "filesystem/*": ["viewer"]}

# What QHub means each user to get: admins everything; everyone else their own namespace,
# their groups' namespaces as developer and the config's environments as viewer.
INTENDED = {
    "stack-staging": {
        "amara-okafor": {"*/*": ["admin"]},
        "lin-wei": {"shared/*": ["viewer"], "lin-wei/*": ["admin"], "users/*": ["developer"], "climate/*": ["developer"]},
        "jonas-berg": {"shared/*": ["viewer"], "jonas-berg/*": ["admin"], "users/*": ["developer"], "genomics/*": ["developer"]},
    },
    "compat-config_gcp": {
        "dharhas@quansight.com": {"*/*": ["admin"]},
        "chris.ostrouchov@gmail.com": {"shared/*": ["viewer"], "chris.ostrouchov@gmail.com/*": ["admin"], "users/*": ["developer"]},
    },
}


@pytest.fixture(params=LABELS)
def run(request: pytest.FixtureRequest) -> CondaStoreRun:
    return conda_store_run(request.param)


def _pod_container(run: CondaStoreRun, name: str) -> dict:
    deployment = find(run.objects, "Deployment", DEPLOYMENT, run.config.namespace)
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == name]
    return container


def test_server_listens_where_the_pod_and_its_probe_expect(run: CondaStoreRun) -> None:
    uvicorn = run.report["uvicorn"]
    server = _pod_container(run, "server")
    (port,) = [p["containerPort"] for p in server["ports"] if p["name"] == "http"]
    assert uvicorn["port"] == port and uvicorn["host"] == "0.0.0.0"
    # Behind the ingress: forwarded headers are trusted, so redirects keep https and the host.
    assert uvicorn["proxy_headers"] is True and uvicorn["forwarded_allow_ips"] == "*"
    probe = server["readinessProbe"]["httpGet"]["path"]
    assert run.report["anonymous"][f"GET {probe}"]["status"] == 200
    # The server waited for the worker's ready signal in the shared database, as in the pod.
    assert run.report["worker_seen_ready"] is True


def test_worker_registers_every_environment_of_the_config_from_its_watch_paths(run: CondaStoreRun) -> None:
    worker = _pod_container(run, "worker")
    volumes = {v["name"]: v for v in find(run.objects, "Deployment", DEPLOYMENT, run.config.namespace)["spec"]["template"]["spec"]["volumes"]}
    (mounted_at,) = [m["mountPath"] for m in worker["volumeMounts"]
                     if volumes[m["name"]].get("configMap", {}).get("name") == "conda-store-environments"]
    report = run.report["worker"]
    assert report["watch_paths"] == [mounted_at]
    assert report["celery_argv"][-1] == "--beat"  # the same worker re-scans the paths every minute
    names = sorted(env.name for env in run.config.environments.values())
    assert report["environments"] == [
        {"namespace": values.FILESYSTEM_NAMESPACE, "name": name, "build_status": "QUEUED"} for name in names]


def _hub_oauth_client_id(service_name: str) -> str:
    """The OAuth client id JupyterHub gives a service, from the hub's own packages (.venv-hub)."""
    code = "import sys; from jupyterhub.services.service import Service; print(Service(name=sys.argv[1]).oauth_client_id)"
    done = subprocess.run([str(HUB_PYTHON), "-c", code, service_name], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_login_goes_through_the_hub_as_the_hub_registered_conda_store(run: CondaStoreRun) -> None:
    ns = run.config.namespace
    hub_pod = container_of(run.objects, find(run.objects, "Deployment", "hub", ns), "hub")
    (service,) = [s for s in json.loads(gzip.decompress(hub_pod.files[HUB_DATA_PATH]))["services"]
                  if s["name"] == values.HUB_SERVICE_NAME]
    # JupyterHub 5.5.0 names a service's OAuth client after it and takes the service's api_token
    # as the client secret (jupyterhub/app.py init_services): here the hub's environment variable.
    client_id = _hub_oauth_client_id(service["name"])
    client_secret = hub_pod.env[service["token_env"]]
    hub_port = find(run.objects, "Service", "hub", ns)["spec"]["ports"][0]["port"]
    hub_api = f"http://hub.{ns}:{hub_port}/hub/api"

    requests = run.report["hub_requests"]
    assert len(requests) == 2 * len(run.config.security.users)
    for token_request, user_request in zip(requests[::2], requests[1::2], strict=True):
        assert token_request["method"] == "POST" and token_request["url"] == f"{hub_api}/oauth2/token"
        form = token_request["form"]
        assert form["client_id"] == client_id and form["grant_type"] == "authorization_code"
        assert form["client_secret"] == client_secret
        assert form["redirect_uri"] == service["oauth_redirect_uri"]
        assert user_request["url"] == f"{hub_api}/user"
        assert user_request["authorization"] == f"Bearer hub-token-of-{form['code']}"

    for login in run.report["logins"].values():
        location = urlsplit(login["login_location"])
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert login["login_status"] == 307
        # The browser goes to the public hub; the hub sends it back to the registered URI.
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"https://{run.config.domain}/hub/api/oauth2/authorize"
        assert query["client_id"] == client_id and query["redirect_uri"] == service["oauth_redirect_uri"]


def test_each_user_gets_the_role_bindings_meant_for_them(run: CondaStoreRun) -> None:
    logins = run.report["logins"]
    assert sorted(logins) == sorted(INTENDED[run.label])
    for user, intended in INTENDED[run.label].items():
        login = logins[user]
        assert login["callback_status"] == 200 and login["got_cookie"], user
        permission = login["permission"]
        assert permission["authenticated"] and permission["primary_namespace"] == user
        assert permission["entity_roles"] == {**CONDA_STORE_DEFAULTS, **intended}, user
        # The same token after a restart (a new server process): the signing secret is the Secret's.
        assert login["permission_after_restart"]["entity_roles"] == permission["entity_roles"], user
        # Every logged-in user sees the config's environments; nobody else's namespace is listed.
        assert login["environments"] == sorted(
            f"{values.FILESYSTEM_NAMESPACE}/{env.name}" for env in run.config.environments.values())


def test_a_developer_may_build_in_their_groups_only() -> None:
    permissions = conda_store_run("stack-staging").report["logins"]["lin-wei"]["permission"]["entity_permissions"]
    assert "environment:create" in permissions["climate/*"] and "environment:create" in permissions["lin-wei/*"]
    assert "environment:create" not in permissions["shared/*"]
    assert not any(arn.startswith(("genomics/", "jonas-berg/", "*/")) for arn in permissions)


def test_anonymous_requests_see_nothing_and_change_nothing(run: CondaStoreRun) -> None:
    anonymous = run.report["anonymous"]
    environments = anonymous[f"GET {values.URL_PREFIX}/api/v1/environment/"]
    assert environments["status"] == 200 and json.loads(environments["body"])["data"] == []
    created = anonymous[f"POST {values.URL_PREFIX}/api/v1/specification/"]
    assert created["status"] == 403, created
