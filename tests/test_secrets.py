"""No secret reaches the plan in plain text: not in resource inputs, not in stack outputs.

Stack secrets arrive as encrypted Pulumi config (the engine substitutes a placeholder it can
recognise); qhub-ops files may still carry a client_secret in the YAML, which must be treated as
a secret from the moment it is read.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import COMPAT_CONFIGS, plan_config, plan_stack

PLACEHOLDER = "offline-placeholder-for-"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_stack_secrets_stay_secret(stack: str) -> None:
    text = json.dumps(plan_stack(stack).to_json())
    assert PLACEHOLDER not in text
    assert json.loads(text)["outputs"]["kubeconfig"] == "[secret]"


@pytest.mark.parametrize("path", [p for p in COMPAT_CONFIGS if "client_secret" in p.read_text()], ids=lambda p: p.name)
def test_client_secret_written_in_yaml_stays_secret(path) -> None:  # type: ignore[no-untyped-def]
    secret = yaml.safe_load(path.read_text())["security"]["authentication"]["config"]["client_secret"]
    plan = plan_config(path).to_json()
    for resource in plan["resources"]:
        assert secret not in json.dumps(resource["inputs"]), f"{resource['name']} carries the client secret"
    assert secret not in json.dumps(plan["outputs"])


def test_helm_values_carry_no_secret_material() -> None:
    """Helm values are stored in the release Secret and shown by `helm get values`: keep them clean."""
    suspicious = ("client_secret", "clientSecret", "apiToken", "api_token", "password", "secretToken", "cookieSecret", "PRIVATE KEY")
    for stack in ("staging", "prod"):
        for release in plan_stack(stack).of_type("kubernetes:helm.sh/v3:Release"):
            values = json.dumps(release.inputs.get("values", {}))
            for word in suspicious:
                for fragment in values.split(word)[1:]:
                    # a key may be named so only when its value is a reference, never material
                    assert fragment.lstrip('":= ').startswith(("{", "[secret]", "null", "\"\"", "Secret", "existing")), \
                        f"{release.name}: value after {word!r}: {fragment[:80]}"
