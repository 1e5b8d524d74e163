"""No secret reaches the plan in plain text: not in resource inputs, not in stack outputs.

Stack secrets arrive as encrypted Pulumi config (the engine substitutes a placeholder it can
recognise); qhub-ops files may still carry a client_secret in the YAML, which must be treated as
a secret from the moment it is read.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.conftest import COMPAT_CONFIGS, plan_config, plan_stack

PLACEHOLDER = "offline-placeholder-for-"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stack_secrets_stay_secret(stack: str) -> None:
    text = json.dumps(plan_stack(stack).to_json())
    assert PLACEHOLDER not in text
    assert json.loads(text)["outputs"]["kubeconfig"] == "[secret]"


def _yaml_client_secret(path) -> str | None:  # type: ignore[no-untyped-def]
    auth = (yaml.safe_load(path.read_text()).get("security") or {}).get("authentication") or {}
    return (auth.get("config") or {}).get("client_secret")


@pytest.mark.parametrize("path", [p for p in COMPAT_CONFIGS if _yaml_client_secret(p)], ids=lambda p: p.name)
def test_client_secret_written_in_yaml_stays_secret(path) -> None:  # type: ignore[no-untyped-def]
    secret = _yaml_client_secret(path)
    if len(secret) < 8:
        pytest.skip(f"{path.name}'s client_secret is the placeholder {secret!r}, too short to trace")
    plan = plan_config(path).to_json()
    # As a whole token: the placeholder CLIENT_SECRET is also part of names like OAUTH_CLIENT_SECRET.
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_])")
    for resource in plan["resources"]:
        assert not pattern.search(json.dumps(resource["inputs"])), f"{resource['name']} carries the client secret"
    assert not pattern.search(json.dumps(plan["outputs"]))


SECRET_KEYS = {"clientsecret", "client_secret", "apitoken", "api_token", "password", "secrettoken",
               "cookiesecret", "privatekey", "private_key", "hostkey", "host_key", "token"}


def _reference(value: object) -> bool:
    """A value that names where the secret is read at run time (Grafana's `$__env{VAR}` and
    `$__file{path}`), not the secret itself."""
    return isinstance(value, str) and re.fullmatch(r"\$__(env|file)\{[^}]+\}", value) is not None


def _secret_values(node: object, path: str = "") -> list[str]:
    """Paths in Helm values where a key named like a secret holds a value."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in SECRET_KEYS and value not in (None, "", "[secret]", {}) and not _reference(value):
                found.append(f"{path}.{key}")
            found += _secret_values(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _secret_values(item, f"{path}[{index}]")
    return found


def test_helm_values_carry_no_secret_material() -> None:
    """Helm values are stored in the release Secret and shown by `helm get values`: keep them clean."""
    for stack in ("staging", "prod"):
        for release in plan_stack(stack).of_type("kubernetes:helm.sh/v3:Release"):
            assert not _secret_values(release.inputs.get("values", {})), release.name
