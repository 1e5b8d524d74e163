"""Mock answers for the providers every stack may use (random, tls, pulumi itself)."""

from __future__ import annotations

from typing import Any

from qhub.offline.mocks import fake_id


def _random_password(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"result": "offline-" + fake_id(name, int(inputs.get("length", 32)))}


def _private_key(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    body = fake_id(name, 64)
    return {
        "privateKeyOpenssh": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n",
        "privateKeyPem": f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n",
        "publicKeyOpenssh": f"ssh-ed25519 AAAA{body}\n",
        "publicKeyPem": f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n",
    }


RESOURCES = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": lambda name, inputs: {"hex": fake_id(name, 2 * int(inputs.get("length", 32))), "base64": fake_id(name, 44)},
    "random:index/randomId:RandomId": lambda name, inputs: {"hex": fake_id(name, 16), "b64Url": fake_id(name, 11)},
    "tls:index/privateKey:PrivateKey": _private_key,
}
CALLS: dict[str, Any] = {}
