"""Auth0Application: the Auth0 application JupyterHub logs users in with, when the config has none.

Creates: an `auth0.Client` (regular web application, OIDC, callback
https://<domain>/hub/oauth_callback) and its `auth0.ClientCredentials` (client_secret_post),
whose client secret becomes a secret Output. The tenant is `auth0_subdomain` when the config
gives it (an explicit provider for that domain), else the Auth0 provider's configured one
(`auth0:domain` / AUTH0_DOMAIN), whose domain is read back with getTenant.
"""

from __future__ import annotations

import pulumi

from qhub.config.security import Auth0AuthConfig


def auth0_domain(subdomain: str) -> str:
    """The tenant domain of `auth0_subdomain`: a short name under auth0.com, or a full domain."""
    return subdomain if "." in subdomain else f"{subdomain}.auth0.com"


class Auth0Application(pulumi.ComponentResource):
    """The hub's OAuth client at Auth0."""

    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    """Secret Output; it goes only into the hub's Kubernetes Secret."""
    domain: pulumi.Output[str]

    def __init__(self, name: str, settings: Auth0AuthConfig, hub_domain: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # Imported here, not at the top: platform.py imports this module for every stack, and
        # the Auth0 SDK (~0.3 s to import) is only needed when the program creates the client.
        import pulumi_auth0 as auth0

        super().__init__("qhub:platform:Auth0Application", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if settings.auth0_subdomain:
            domain = auth0_domain(settings.auth0_subdomain)
            # Credentials still come from AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET (or AUTH0_API_TOKEN).
            provider = auth0.Provider(f"{name}-provider", domain=domain, opts=child)
            child = pulumi.ResourceOptions(parent=self, provider=provider)
            self.domain = pulumi.Output.from_input(domain)
        else:
            self.domain = auth0.get_tenant_output(opts=pulumi.InvokeOutputOptions(parent=self)).domain
        callback = settings.oauth_callback_url or f"https://{hub_domain}/hub/oauth_callback"
        self.client = auth0.Client(
            f"{name}-client",
            name=f"QHub {hub_domain}",
            description=f"JupyterHub login of https://{hub_domain}/ (managed by Pulumi)",
            app_type="regular_web",
            oidc_conformant=True,
            is_first_party=True,
            callbacks=[callback],
            allowed_logout_urls=[f"https://{hub_domain}/"],
            web_origins=[f"https://{hub_domain}"],
            grant_types=["authorization_code", "refresh_token"],
            jwt_configuration=auth0.ClientJwtConfigurationArgs(alg="RS256"),
            opts=child,
        )
        self.credentials = auth0.ClientCredentials(
            f"{name}-credentials",
            client_id=self.client.client_id,
            authentication_method="client_secret_post",
            opts=child,
        )
        self.client_id = self.client.client_id
        self.client_secret = pulumi.Output.secret(self.credentials.client_secret)
        self.register_outputs({"client_id": self.client_id, "domain": self.domain})
