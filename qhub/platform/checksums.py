"""Pod annotations that change whenever a secret the pod reads changes, so the pod rolls.

Kubernetes does not restart a pod when a Secret it reads by `secretKeyRef` changes: a rotated
OAuth client secret would reach the hub only at its next restart, and logins fail until then.
A checksum of the secrets on the pod template makes every change a rollout.

A plain hash of a secret would not do: the annotation is in the Helm release's values, the plan
and every preview, and a short password is recovered from its SHA-256 by guessing. The checksum
is an HMAC-SHA256 keyed with 32 random bytes that exist only in the stack's encrypted state,
and it is deliberately not a Pulumi secret, so the values that carry it stay readable in
previews and plans.

Creates: one `random.RandomBytes` key per caller (`<name>-checksum-key`), with its own explicit
random provider (`<name>-checksum-random`), as every resource of the program names its provider.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

import pulumi
import pulumi_random as random

ANNOTATION = "qhub.dev/secrets-hmac"


def secrets_checksum(name: str, secrets: Mapping[str, pulumi.Input[str]], parent: pulumi.Resource) -> pulumi.Output[str]:
    """HMAC-SHA256 of `secrets` (key -> value; order does not matter), safe to show."""
    provider = random.Provider(f"{name}-checksum-random", opts=pulumi.ResourceOptions(parent=parent))
    key = random.RandomBytes(f"{name}-checksum-key", length=32,
                             opts=pulumi.ResourceOptions(parent=parent, provider=provider))
    names = sorted(secrets)

    def digest(values: list[str]) -> str:
        message = json.dumps(dict(zip(names, values[1:])), sort_keys=True).encode()
        return hmac.new(values[0].encode(), message, hashlib.sha256).hexdigest()

    return pulumi.Output.unsecret(pulumi.Output.all(key.base64, *(secrets[n] for n in names)).apply(digest))
