"""Grafana's login through the hub, against the hub of each monitored plan run as the hub pod runs
it (tests/support/hub.py): the chart's jupyterhub_config.py with QHub's hub config, JupyterHub
5.5's own OAuth provider answering the requests Grafana's generic_oauth makes, with the client
id, secret, redirect URI and URLs of the rendered Grafana chart's grafana.ini and environment.

The user model the hub returns is then read with the rendered grafana.ini's JMESPath
expressions (login, e-mail, role) by python-jmespath, the reference implementation of the
language Grafana's Go library implements: a stand-in for Grafana's own evaluation, which cannot
run here (Grafana is a Go binary, not on PyPI).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import jmespath
import pytest

from qhub.values import grafana as grafana_values
from tests.support.container import container_of, find
from tests.support.hub import GRAFANA_CONTAINER, GRAFANA_DEPLOYMENT, HubRun, grafana_ini, hub_labels, hub_run, upcoming_labels

MONITORED = [label for label in hub_labels() if label in ("stack-staging", "fixture-aws.happy.gpu")]


@pytest.fixture(params=MONITORED, scope="module")
def run(request: pytest.FixtureRequest) -> HubRun:
    return hub_run(request.param, upcoming=upcoming_labels(request, "run"))


def _oauth(run: HubRun) -> Any:
    grafana = container_of(run.objects, find(run.objects, "Deployment", GRAFANA_DEPLOYMENT, run.config.namespace), GRAFANA_CONTAINER)
    return grafana_ini(grafana)


def test_the_monitored_plans_are_the_ones_with_monitoring() -> None:
    from qhub.config import load_file
    from tests.conftest import plan_sources

    assert MONITORED == [label for label, path in sorted(plan_sources().items()) if load_file(path).config.monitoring.enabled]


def test_the_hub_registers_grafana_as_an_oauth_client(run: HubRun) -> None:
    services = run.report["hub"]["services"]
    assert services["grafana"] == {"url": None, "oauth_client_id": "service-grafana"}
    # Prometheus' service has a token and no OAuth client.
    assert services["prometheus"]["oauth_client_id"] is None


def test_grafana_asks_the_public_host_and_the_hub_in_the_cluster(run: HubRun) -> None:
    ini = _oauth(run)
    oauth, domain, namespace = ini["auth.generic_oauth"], run.config.domain, run.config.namespace
    assert urlparse(oauth["auth_url"]).netloc == domain
    assert ini["server"]["root_url"] == f"https://{domain}/monitoring/" and ini["server"]["serve_from_sub_path"] == "true"
    # The token and user URLs name the hub's Service in the cluster, at its port.
    service = find(run.objects, "Service", "hub", namespace)
    (port,) = [p["port"] for p in service["spec"]["ports"] if p["name"] == "hub"]
    for key in ("token_url", "api_url"):
        assert urlparse(oauth[key]).netloc == f"hub.{namespace}:{port}", key
    # No anonymous access, no login form: the hub's login only.
    assert ini["auth.anonymous"]["enabled"] == "false" and ini["auth"]["disable_login_form"] == "true"
    assert ini["auth.basic"]["enabled"] == "false"


def test_every_user_logs_in_to_grafana_through_the_hub(run: HubRun) -> None:
    ini = _oauth(run)
    oauth = ini["auth.generic_oauth"]
    admins = set(run.config.security.members("admin"))
    results = {key.removeprefix("grafana/"): value for key, value in run.report["service_logins"].items()}
    assert sorted(results) == sorted(run.config.security.users)
    for user, result in results.items():
        assert result["hub_login"] == 302, user
        # The hub sends the browser back to Grafana's callback, exactly, with a code and the state.
        assert result["authorize"] == {"status": 302, "redirect": grafana_values.redirect_uri(run.config.domain),
                                       "state_kept": True, "code_given": True}, user
        assert result["wrong_secret_status"] in (400, 401), user
        assert result["token"]["status"] == 200 and result["token"]["token_type"] == "Bearer", (user, result["token"])
        assert result["token"]["client"] == "service-grafana"
        # The token lets Grafana read who the user is and nothing more.
        assert set(result["token"]["scopes"]) <= {"read:users:name!user", "read:users:groups!user", "access:services!service=grafana"}
        assert result["replayed_code_status"] in (400, 401), user
        assert result["other_redirect"]["status"] == 400 and not result["other_redirect"]["location"], user
        model = result["user"]["model"]
        assert result["user"]["status"] == 200 and model["name"] == user
        assert sorted(model["groups"]) == sorted({run.config.security.users[user].primary_group,
                                                  *run.config.security.users[user].secondary_groups})
        # What Grafana makes of the model, with the rendered expressions.
        assert jmespath.search(oauth["login_attribute_path"], model) == user
        email = jmespath.search(oauth["email_attribute_path"], model)
        assert email == (user if "@" in user else f"{user}@{run.config.domain}")
        role = jmespath.search(oauth["role_attribute_path"], model)
        assert role == ("GrafanaAdmin" if user in admins else "Viewer"), user
    assert admins and set(results) - admins  # both kinds of user were logged in
    assert oauth["allow_assign_grafana_admin"] == "true" and oauth["role_attribute_strict"] == "true"


def test_the_client_secret_is_the_grafana_services_token(run: HubRun) -> None:
    """Grafana's client secret and the hub's token for the service come from one Secret key."""
    grafana = run.object("Deployment", GRAFANA_DEPLOYMENT, run.config.namespace)
    (container,) = [c for c in grafana["spec"]["template"]["spec"]["containers"] if c["name"] == GRAFANA_CONTAINER]
    (env,) = [e for e in container["env"] if e["name"] == grafana_values.CLIENT_SECRET_ENV]
    ref = env["valueFrom"]["secretKeyRef"]
    assert ref == {"name": grafana_values.SECRET_NAME, "key": grafana_values.CLIENT_SECRET_KEY}
    hub = run.object("Deployment", "hub", run.config.namespace)
    (hub_container,) = [c for c in hub["spec"]["template"]["spec"]["containers"] if c["name"] == "hub"]
    refs = [e["valueFrom"]["secretKeyRef"] for e in hub_container["env"] if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]]
    assert ref in refs


def test_prometheus_scrapes_the_hubs_metrics_with_its_token(run: HubRun) -> None:
    """JupyterHub 5.5 answers /hub/metrics only to a token with read:metrics: the prometheus
    service's, from the Secret key QHub's ServiceMonitor names."""
    scrape = run.report["metrics_scrapes"]["qhub-hub"]
    assert scrape["with_token"]["status"] == 200
    assert {"jupyterhub_running_servers", "jupyterhub_server_spawn_duration_seconds", "jupyterhub_active_users"} <= set(scrape["with_token"]["families"])
    assert scrape["without_token"]["status"] == 403 and not scrape["without_token"]["families"]
