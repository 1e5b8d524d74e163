"""A rotated secret rolls the pods that read it (qhub/platform/checksums.py).

The staging stack is planned with two OAuth client secrets, and the jupyterhub release of each
plan is rendered by the real helm: the hub Deployment's pod template differs between the two
(so Kubernetes rolls the hub), is the same for the same secret (no rollout on every run), and
shows neither the secret nor its plain hash, while the release's values stay readable.

The same for the secrets the other services read and the hub reads from them: new random
values (the offline engine's mock answer for one RandomPassword or the SSH host key, replaced
for one plan: what a replaced random resource gives at the next `pulumi up`) roll exactly the
pods that read them; conda-store's pod rolls when the settings in its ConfigMap change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import Plan, plan_program
from qhub.offline.mock_outputs import common as mock_outputs
from qhub.platform.checksums import ANNOTATION
from tests.conftest import ROOT, plan_stack
from tests.support.helm import objects_of, release_named, render_release

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"


def plan_with_client_secret(secret: str) -> Plan:
    settings = {**stack_settings("staging", ROOT), "qhub:oauthClientSecret": secret}
    return plan_program(stack_config_file("staging", ROOT), "staging", "aws", extra_config=settings)


def hub_pod_annotations(plan: Plan) -> dict[str, str]:
    rendered = render_release(release_named(plan, "jupyterhub"), "1.35")
    (deployment,) = objects_of(rendered, "Deployment", "hub")
    return dict(deployment["spec"]["template"]["metadata"]["annotations"])


def gateway_pod_annotations(plan: Plan) -> dict[str, str]:
    rendered = render_release(release_named(plan, "dask-gateway"), "1.35")
    (deployment,) = objects_of(rendered, "Deployment", "api-dask-gateway")
    return dict(deployment["spec"]["template"]["metadata"]["annotations"])


def deployment_pod_annotations(plan: Plan, name: str) -> dict[str, str]:
    """The pod template annotations of one of QHub's own Deployments."""
    (deployment,) = [r for r in plan.of_type("kubernetes:apps/v1:Deployment") if r.inputs["metadata"]["name"] == name]
    return dict(deployment.inputs["spec"]["template"]["metadata"]["annotations"])


def pods(plan: Plan) -> dict[str, dict[str, str]]:
    """QHub's checksum annotations of every pod that reads a secret, by pod. (z2jh's own
    checksum/secret covers values helm generates at random offline, where `lookup` finds no
    cluster: it differs between any two renders.)"""
    def ours(annotations: dict[str, str]) -> dict[str, str]:
        return {key: value for key, value in annotations.items() if key.startswith("qhub.dev/") or key == "checksum/config"}
    return {
        "hub": ours(hub_pod_annotations(plan)),
        "dask-gateway": ours(gateway_pod_annotations(plan)),
        "conda-store": ours(deployment_pod_annotations(plan, "conda-store")),
        "jupyterhub-ssh": ours(deployment_pod_annotations(plan, "jupyterhub-ssh")),
    }


def replaced(answer: Callable[[str, dict[str, Any]], dict[str, Any]], logical_suffix: str) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """The mock answer, with a different value for the one resource whose name ends so."""
    def new_answer(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = answer(name, inputs)
        if name.endswith(logical_suffix):
            outputs = {key: value.replace("offline-", "offline-rotated-", 1) if key == "result" else "rotated-" + value
                       for key, value in outputs.items()}
        return outputs
    return new_answer


def plan_rotating(monkeypatch: pytest.MonkeyPatch, mock_type: str, logical_suffix: str) -> Plan:
    with monkeypatch.context() as patch:
        patch.setitem(mock_outputs.RESOURCES, mock_type, replaced(mock_outputs.RESOURCES[mock_type], logical_suffix))
        return plan_program(stack_config_file("staging", ROOT), "staging", "aws", extra_config=stack_settings("staging", ROOT))


def rolled(before: Plan, after: Plan) -> set[str]:
    """The pods whose checksums differ between two plans."""
    old, new = pods(before), pods(after)
    assert all(ANNOTATION in annotations for annotations in old.values()), old
    assert "checksum/config" in old["conda-store"] and "qhub.dev/hub-config-sha256" in old["hub"]
    return {pod for pod in old if old[pod] != new[pod]}


def test_a_new_oauth_secret_rolls_the_hub_and_the_same_one_does_not() -> None:
    first, again, rotated = (plan_with_client_secret(s) for s in ("client-secret-one", "client-secret-one", "client-secret-two"))
    assert hub_pod_annotations(first)[ANNOTATION] == hub_pod_annotations(again)[ANNOTATION]
    assert hub_pod_annotations(first)[ANNOTATION] != hub_pod_annotations(rotated)[ANNOTATION]
    # The other pods read nothing of the hub's Secret.
    assert rolled(first, rotated) == {"hub"}
    assert rolled(first, again) == set()


def test_the_checksum_gives_the_secret_away_to_nobody() -> None:
    secret = "client-secret-one"
    plan = plan_with_client_secret(secret)
    values = release_named(plan, "jupyterhub").inputs["values"]
    checksum = values["hub"]["annotations"][ANNOTATION]
    assert checksum not in (hashlib.sha256(secret.encode()).hexdigest(), hashlib.sha1(secret.encode()).hexdigest())
    text = json.dumps(plan.to_json())
    assert secret not in text
    # The values are not a Pulumi secret: previews show them, checksum included.
    assert "[secret]" not in json.dumps(values)
    assert "[secret]" not in json.dumps(release_named(plan, "dask-gateway").inputs["values"]["gateway"]["annotations"])


def test_a_new_conda_store_hub_token_rolls_conda_store_and_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is in conda-store's Secret; the hub reads it from there (secretKeyRef)."""
    assert rolled(plan_stack("staging"), plan_rotating(monkeypatch, RANDOM_PASSWORD, "-conda-store-hub-token")) == {"conda-store", "hub"}


def test_a_new_conda_store_auth_secret_rolls_conda_store_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rolled(plan_stack("staging"), plan_rotating(monkeypatch, RANDOM_PASSWORD, "-conda-store-auth-secret")) == {"conda-store"}


def test_a_new_gateway_token_rolls_the_gateway_and_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rolled(plan_stack("staging"), plan_rotating(monkeypatch, RANDOM_PASSWORD, "-dask-gateway-token")) == {"dask-gateway", "hub"}


@pytest.mark.parametrize("token", ["-grafana-client-secret", "-prometheus-hub-token"])
def test_a_new_monitoring_token_rolls_the_hub(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    """Grafana's OAuth client secret and Prometheus' token are the hub's service tokens too
    (staging is monitored); Grafana's own pod has its own checksum (qhub/platform/monitoring.py)."""
    assert rolled(plan_stack("staging"), plan_rotating(monkeypatch, RANDOM_PASSWORD, token)) == {"hub"}


def test_a_new_host_key_rolls_ssh_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rolled(plan_stack("staging"), plan_rotating(monkeypatch, PRIVATE_KEY, "-ssh-host-key")) == {"jupyterhub-ssh"}


def test_new_conda_store_settings_roll_conda_store(tmp_path: Path) -> None:
    """A user added to a group changes conda-store's settings ConfigMap (its role bindings)."""
    data = yaml.safe_load(stack_config_file("staging", ROOT).read_text())
    groups = data["security"]["groups"]
    data["security"]["users"]["newcomer"] = {"uid": 10999999, "primary_group": next(iter(groups))}
    changed = tmp_path / "staging.yaml"
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    after = plan_program(changed, "staging", "aws", extra_config=stack_settings("staging", ROOT))
    before = plan_stack("staging")
    old, new = deployment_pod_annotations(before, "conda-store"), deployment_pod_annotations(after, "conda-store")
    assert old["checksum/config"] != new["checksum/config"]
    assert old[ANNOTATION] == new[ANNOTATION]
