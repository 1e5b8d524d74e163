"""What __main__.py runs: read this stack's QHub file and secrets, build, export."""

from __future__ import annotations

from pathlib import Path

import pulumi

from qhub.config import ConfigError, load_file
from qhub.config.security import Auth0Auth, GitHubAuth
from qhub.stack import StackSecrets, build_platform


def _secrets(loaded_config: object) -> StackSecrets:
    """Secrets from encrypted stack config; a client_secret still in the YAML becomes a secret too."""
    qhub_config = pulumi.Config("qhub")
    client_secret = qhub_config.get_secret("oauthClientSecret")
    auth = loaded_config.security.authentication  # type: ignore[attr-defined]
    if client_secret is None and isinstance(auth, (GitHubAuth, Auth0Auth)) and auth.config.client_secret is not None:
        # Compatibility with qhub-ops files: wrapped the moment it is read, so it never shows in plain text.
        client_secret = pulumi.Output.secret(auth.config.client_secret.get_secret_value())
    return StackSecrets(
        oauth_client_secret=client_secret,
        hub_password=qhub_config.get_secret("hubPassword"),
    )


def main() -> None:
    """The Pulumi program of one stack."""
    qhub_config = pulumi.Config("qhub")
    path = Path(qhub_config.require("configFile"))
    try:
        loaded = load_file(path)
    except ConfigError as error:
        # RunError shows its message without a Python traceback.
        raise pulumi.RunError(str(error)) from None
    for warning in loaded.warnings:
        pulumi.log.warn(f"{path}: {warning}")
    outputs = build_platform(pulumi.get_stack(), loaded.config, _secrets(loaded.config))
    for key, value in outputs.items():
        pulumi.export(key, value)
