"""A rotated secret rolls the pods that read it (qhub/platform/checksums.py).

The staging stack is planned with two OAuth client secrets, and the jupyterhub release of each
plan is rendered by the real helm: the hub Deployment's pod template differs between the two
(so Kubernetes rolls the hub), is the same for the same secret (no rollout on every run), and
shows neither the secret nor its plain hash, while the release's values stay readable.
"""

from __future__ import annotations

import hashlib
import json

from qhub.config.load import stack_config_file, stack_settings
from qhub.offline.engine import Plan, plan_program
from qhub.platform.checksums import ANNOTATION
from tests.conftest import ROOT
from tests.support.helm import objects_of, release_named, render_release


def plan_with_client_secret(secret: str) -> Plan:
    settings = {**stack_settings("staging", ROOT), "qhub:oauthClientSecret": secret}
    return plan_program(stack_config_file("staging", ROOT), "staging", "aws", extra_config=settings)


def hub_pod_annotations(plan: Plan) -> dict[str, str]:
    rendered = render_release(release_named(plan, "jupyterhub"), "1.35")
    (deployment,) = objects_of(rendered, "Deployment", "hub")
    return dict(deployment["spec"]["template"]["metadata"]["annotations"])


def test_a_new_oauth_secret_rolls_the_hub_and_the_same_one_does_not() -> None:
    first, again, rotated = (plan_with_client_secret(s) for s in ("client-secret-one", "client-secret-one", "client-secret-two"))
    assert hub_pod_annotations(first)[ANNOTATION] == hub_pod_annotations(again)[ANNOTATION]
    assert hub_pod_annotations(first)[ANNOTATION] != hub_pod_annotations(rotated)[ANNOTATION]


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
