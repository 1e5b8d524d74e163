"""Values of the standalone `grafana` chart (12.11.1, Grafana 13.2): Grafana at /monitoring/,
logging users in with the hub as its OAuth provider.

Pure function: (facts) -> dict. No secret is in the values: the OAuth client secret (the hub
service's API token) reaches Grafana as an environment variable from a Secret (`envValueFrom`),
which grafana.ini names as `$__env{...}` (the chart refuses an inline client secret), and the
admin account's credentials come from the same Secret (`admin.existingSecret`).

The login (Grafana's generic_oauth against JupyterHub 5.5's OAuth provider):
- the browser is sent to the hub's authorize URL on the public host; the hub asks who it is
  (the hub's own login), checks that the user holds access:services!service=grafana, and
  redirects back to https://<domain>/monitoring/login/generic_oauth with a code;
- Grafana exchanges the code at the hub's token URL and reads the user at /hub/api/user, both
  in the cluster (hub.<namespace>:8081), with the token the hub issued: its scopes are the
  identify scopes, so the model has `name` and `groups` and no e-mail;
- login and name are the hub's `name`; the e-mail Grafana insists on (grafana#93088) is derived
  (EMAIL_PATH); members of the hub's `admin` group are Grafana Admins, everyone else a Viewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RELEASE_NAME = "grafana"
SERVICE_NAME = "grafana"
SERVICE_PORT = 80
CONTAINER_PORT = 3000
URL_PREFIX = "/monitoring"
HUB_SERVICE_NAME = "grafana"
# JupyterHub names the OAuth client of a service `service-<name>`.
OAUTH_CLIENT_ID = f"service-{HUB_SERVICE_NAME}"
# The Secret QHub makes for Grafana, and its keys.
SECRET_NAME = "qhub-grafana"
ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"
CLIENT_SECRET_KEY = "client-secret"
CLIENT_SECRET_ENV = "QHUB_GRAFANA_CLIENT_SECRET"
ADMIN_GROUP = "admin"
# JMESPath over the hub's user model (name, groups, ...), as Grafana evaluates it.
LOGIN_PATH = "name"
ROLE_PATH = f"contains(groups[*], '{ADMIN_GROUP}') && 'GrafanaAdmin' || 'Viewer'"
POD_LABELS = {"qhub.dev/monitoring": "grafana", "hub.jupyter.org/network-access-hub": "true"}
"""Grafana's pod labels: its role for QHub's policies, and z2jh's label that lets it reach the
hub (token and user look-ups)."""
DATASOURCE_UID = "prometheus"
DASHBOARD_LABEL = "grafana_dashboard"
RESOURCES = {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}
SIDECAR_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


def email_path(domain: str) -> str:
    """The derived e-mail: the hub name when it is one (Auth0 logins), else `<name>@<domain>`."""
    return f"contains(name, '@') && name || join('@', [name, '{domain}'])"


def root_url(domain: str) -> str:
    return f"https://{domain}{URL_PREFIX}/"


def redirect_uri(domain: str) -> str:
    """Where the hub sends the browser back to: Grafana's generic_oauth callback."""
    return f"{root_url(domain)}login/generic_oauth"


@dataclass(frozen=True)
class GrafanaFacts:
    """What Grafana's values need to know."""

    domain: str
    namespace: str
    general_selector: Mapping[str, str]
    prometheus_url: str
    """Prometheus in the cluster, e.g. http://kube-prometheus-stack-prometheus.dev:9090."""
    hub_internal_url: str
    """The hub in the cluster, e.g. http://hub.dev:8081 (token and user URLs)."""
    secrets_checksum: Any = ""
    """HMAC of the Secret Grafana reads (qhub/platform/checksums.py): a rotated secret rolls Grafana."""


def grafana_ini(facts: GrafanaFacts) -> dict[str, Any]:
    hub = facts.hub_internal_url.rstrip("/")
    return {
        "server": {"domain": facts.domain, "root_url": root_url(facts.domain), "serve_from_sub_path": True},
        "analytics": {"check_for_updates": False, "check_for_plugin_updates": False, "reporting_enabled": False},
        "security": {"cookie_secure": True, "disable_gravatar": True},
        # Only the hub's login: no anonymous access, no login form, no sign-up but through OAuth.
        "auth": {"disable_login_form": True, "oauth_auto_login": True, "signout_redirect_url": f"https://{facts.domain}/hub/logout"},
        "auth.anonymous": {"enabled": False},
        "auth.basic": {"enabled": False},
        "users": {"allow_sign_up": False, "auto_assign_org_role": "Viewer"},
        "auth.generic_oauth": {
            "enabled": True,
            "name": "JupyterHub",
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": f"$__env{{{CLIENT_SECRET_ENV}}}",
            # The hub's token endpoint reads the client credentials from the form.
            "auth_style": "InParams",
            "use_pkce": True,
            # The token's scopes are the hub's identify scopes whatever is asked; ask for none.
            "scopes": "",
            "auth_url": f"https://{facts.domain}/hub/api/oauth2/authorize",
            "token_url": f"{hub}/hub/api/oauth2/token",
            "api_url": f"{hub}/hub/api/user",
            "login_attribute_path": LOGIN_PATH,
            "name_attribute_path": LOGIN_PATH,
            "email_attribute_path": email_path(facts.domain),
            "role_attribute_path": ROLE_PATH,
            "role_attribute_strict": True,
            "allow_assign_grafana_admin": True,
            "allow_sign_up": True,
            "skip_org_role_sync": False,
        },
    }


def grafana_values(facts: GrafanaFacts) -> dict[str, Any]:
    """Values of the grafana chart for one platform."""
    return {
        "nodeSelector": dict(facts.general_selector),
        "resources": RESOURCES,
        "podLabels": dict(POD_LABELS),
        "podAnnotations": {"qhub.dev/secrets-hmac": facts.secrets_checksum},
        "admin": {"existingSecret": SECRET_NAME, "userKey": ADMIN_USER_KEY, "passwordKey": ADMIN_PASSWORD_KEY},
        "envValueFrom": {CLIENT_SECRET_ENV: {"secretKeyRef": {"name": SECRET_NAME, "key": CLIENT_SECRET_KEY}}},
        "testFramework": {"enabled": False},
        # The dashboard sidecar reads ConfigMaps of this namespace only: a Role, not a ClusterRole.
        "rbac": {"namespaced": True},
        "grafana.ini": grafana_ini(facts),
        "datasources": {"datasources.yaml": {"apiVersion": 1, "datasources": [{
            "name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
            "url": facts.prometheus_url, "isDefault": True, "editable": False,
        }]}},
        # Dashboards are ConfigMaps labelled grafana_dashboard: "1" in the platform namespace
        # (QHub's, and the stack's Kubernetes ones), each into the folder its annotation names.
        "sidecar": {
            "resources": SIDECAR_RESOURCES,
            "dashboards": {
                "enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1", "resource": "configmap",
                "searchNamespace": facts.namespace,
                "folderAnnotation": "grafana_folder",
                "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
            },
        },
    }
