"""Values of the platform charts (z2jh, nginx-ingress, cert-manager) against each chart's schema,
merged over its defaults as Helm does, for every config the repository holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qhub.config import QHubConfig, load_file
from qhub.config.security import Auth0Auth, GitHubAuth
from qhub.values.cert_manager import acme_issuer_spec, cert_manager_values
from qhub.values.hub_integration import HubIntegration, HubService, SecretKeyRef
from qhub.values.jupyterhub import HubFacts, HubSecrets, jupyterhub_values
from qhub.values.routes import Route, ingress_manifests
from qhub.values.nginx_ingress import nginx_ingress_values
from tests.conftest import COMPAT_CONFIGS, FIXTURES, ROOT
from tests.helm_values import helm_merge, schema_errors

CONFIGS = [ROOT / "stacks" / "staging.yaml", ROOT / "stacks" / "prod.yaml", *COMPAT_CONFIGS, FIXTURES / "configs" / "existing.platform.yaml",
           *sorted((FIXTURES / "configs").glob("*.happy*.yaml"))]
SELECTORS = {"general": {"pool": "general"}, "user": {"pool": "user"}, "gpu": {"pool": "gpu"}}
INTEGRATION = HubIntegration(
    services=(HubService("dask-gateway", SecretKeyRef("qhub-dask-gateway", "token"), url="http://dask-gateway:8000"),),
    singleuser_env={"DASK_GATEWAY__ADDRESS": "http://dask-gateway:8000"},
    volumes=({"name": "conda", "persistentVolumeClaim": {"claimName": "conda-store"}},),
    volume_mounts=({"name": "conda", "mountPath": "/home/conda"},),
    server_token_scopes=("access:services!service=dask-gateway",),
)


def facts(config: QHubConfig) -> HubFacts:
    auth = config.security.authentication
    oauth = isinstance(auth, (GitHubAuth, Auth0Auth))
    return HubFacts(
        general_selector=SELECTORS["general"], user_selector=SELECTORS["user"], gpu_selector=SELECTORS["gpu"],
        shared_claim="qhub-shared",
        secrets=HubSecrets("qhub-hub-secrets", oauth_client_secret_key="oauth-client-secret") if oauth
        else HubSecrets("qhub-hub-secrets", password_key="p", admin_password_key="a"),
        oauth_client_id="client-id" if oauth else None, auth0_domain="tenant.auth0.com",
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_jupyterhub_values_match_the_chart_schema(path: Path) -> None:
    config = load_file(path).config
    assert schema_errors("jupyterhub-4.4.0", jupyterhub_values(config, facts(config), [INTEGRATION])) == []


def test_schema_check_catches_a_wrong_key() -> None:
    assert schema_errors("jupyterhub-4.4.0", {"hub": {"extraEnvv": []}})


def test_helm_merge_replaces_lists_and_deletes_nulls() -> None:
    assert helm_merge({"a": {"b": [1], "c": 1, "d": 2}}, {"a": {"b": [2], "c": None}}) == {"a": {"b": [2], "d": 2}}


def test_platform_ingresses_serve_websockets_and_large_uploads_with_tls() -> None:
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    assert jupyterhub_values(config, facts(config))["ingress"] == {"enabled": False}
    routes = [Route("/", "proxy-public", 80, websocket=True), Route("/conda-store", "conda-store-server", 8080)]
    master, hub, conda = ingress_manifests(config.domain, "dev", "nginx-dev", "qhub-tls", "dev-letsencrypt-production", routes)
    annotations = master["metadata"]["annotations"]
    assert annotations["nginx.org/mergeable-ingress-type"] == "master"
    # Inherited by every minion (the controller's minionInheritanceList), the solver's too.
    assert annotations["nginx.org/client-max-body-size"].endswith("g")
    assert annotations["cert-manager.io/cluster-issuer"] == "dev-letsencrypt-production"
    # cert-manager adds a minion of its own; it never edits an Ingress Pulumi owns.
    assert not [key for key in annotations if key.startswith("acme.cert-manager.io/")]
    assert not [key for key in annotations if key.startswith("nginx.ingress.kubernetes.io/")]
    # The controller refuses websocket-services on a master and paths on it.
    assert "nginx.org/websocket-services" not in annotations and "http" not in master["spec"]["rules"][0]
    assert master["spec"]["tls"] == [{"hosts": [config.domain], "secretName": "qhub-tls"}]
    for minion, route in ((hub, routes[0]), (conda, routes[1])):
        assert minion["metadata"]["annotations"]["nginx.org/mergeable-ingress-type"] == "minion"
        assert "tls" not in minion["spec"] and minion["spec"]["ingressClassName"] == "nginx-dev"
        (rule,) = minion["spec"]["rules"]
        assert rule["host"] == config.domain
        assert [p["path"] for p in rule["http"]["paths"]] == [route.path]
    assert hub["metadata"]["annotations"]["nginx.org/websocket-services"] == "proxy-public"
    assert "nginx.org/websocket-services" not in conda["metadata"]["annotations"]


def test_existing_certificate_needs_no_issuer() -> None:
    master, _ = ingress_manifests("lab.example.org", "dev", "nginx-dev", "my-cert", None, [Route("/", "proxy-public", 80, websocket=True)])
    assert "cert-manager.io/cluster-issuer" not in master["metadata"]["annotations"]
    assert master["spec"]["tls"][0]["secretName"] == "my-cert"


def test_hub_secrets_only_by_reference() -> None:
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    values = jupyterhub_values(config, facts(config), [INTEGRATION])
    env = {e["name"]: e for e in values["hub"]["extraEnv"]}
    assert env["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "qhub-hub-secrets", "key": "oauth-client-secret"}
    assert env["QHUB_SERVICE_TOKEN_DASK_GATEWAY"]["valueFrom"]["secretKeyRef"] == {"name": "qhub-dask-gateway", "key": "token"}
    assert "apiToken" not in json.dumps(values) and "secretToken" not in json.dumps(values)
    assert "services" not in values["hub"]  # services are configured from the hub side, tokens from env


def test_placement_and_culling() -> None:
    config = load_file(FIXTURES / "configs" / "existing.platform.yaml").config
    values = jupyterhub_values(config, facts(config))
    assert values["hub"]["nodeSelector"] == values["proxy"]["chp"]["nodeSelector"] == SELECTORS["general"]
    assert values["scheduling"]["userScheduler"]["nodeSelector"] == SELECTORS["general"]
    assert values["singleuser"]["nodeSelector"] == SELECTORS["user"]
    assert values["cull"]["enabled"] and values["cull"]["timeout"] == 30 * 60 and values["cull"]["maxAge"] == 24 * 3600


@pytest.mark.parametrize("annotations", [{}, {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}])
def test_nginx_values_match_the_chart_schema(annotations: dict[str, str]) -> None:
    values = nginx_ingress_values("nginx-dev", SELECTORS["general"], annotations)
    assert schema_errors("nginx-ingress-2.6.4", values) == []
    controller = values["controller"]
    assert controller["ingressClass"]["name"] == "nginx-dev" and controller["service"]["annotations"] == annotations
    assert controller["config"]["entries"]["client-max-body-size"]


def test_cert_manager_values_match_the_chart_schema() -> None:
    values = cert_manager_values(SELECTORS["general"])
    assert schema_errors("cert-manager-v1.21.1", values) == []
    assert values["crds"]["enabled"] is True


def test_acme_issuer_solves_through_the_platform_ingress_class() -> None:
    spec = acme_issuer_spec("https://acme", "account", "nginx-dev", None)
    # The solver's Ingress joins the host's mergeable master as a minion.
    assert spec["acme"]["solvers"] == [{"http01": {"ingress": {
        "ingressClassName": "nginx-dev",
        "ingressTemplate": {"metadata": {"annotations": {"nginx.org/mergeable-ingress-type": "minion"}}},
    }}}]
    assert "email" not in spec["acme"]
