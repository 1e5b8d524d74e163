"""Mock answers of the Auth0 provider: client ids and secrets, and the tenant."""

from __future__ import annotations

from typing import Any

from qhub.offline.mocks import fake_id

TENANT_DOMAIN = "qhub-offline.us.auth0.com"


def _tenant(_args: dict[str, Any]) -> dict[str, Any]:
    return {"id": "qhub-offline", "domain": TENANT_DOMAIN, "friendlyName": "QHub offline tenant"}


RESOURCES = {
    "auth0:index/client:Client": lambda name, inputs: {"clientId": fake_id("client" + name, 32)},
    "auth0:index/clientCredentials:ClientCredentials": lambda name, inputs: {"clientSecret": "offline-" + fake_id("secret" + name, 56)},
}
CALLS = {"auth0:index/getTenant:getTenant": _tenant}
