"""dask-gateway values: valid against the chart's schema once merged with its defaults, no token."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from qhub.config import load_file
from qhub.values import dask_gateway as values
from qhub.values.conda_store import CondaMount
from qhub.values.hub_integration import SecretKeyRef
from tests.conftest import COMPAT_CONFIGS, ROOT, SHARED

SCHEMAS = SHARED / "chart-schemas"
CONFIGS = [ROOT / "stacks" / "staging.yaml", ROOT / "stacks" / "prod.yaml", *COMPAT_CONFIGS]


def helm_merge(defaults: Any, override: Any) -> Any:
    """Helm's coalescing: maps merge key by key, anything else is replaced."""
    if isinstance(defaults, dict) and isinstance(override, dict):
        merged = dict(defaults)
        for key, value in override.items():
            merged[key] = helm_merge(defaults.get(key), value) if key in defaults else value
        return merged
    return override


def _values(path):
    config = load_file(path).config
    settings = values.gateway_settings(config, worker_selector={"n": "worker"}, gpu_selector=None, conda=CondaMount())
    return config, values.dask_gateway_values(
        config, settings=settings, general_selector={"n": "general"},
        token=SecretKeyRef("dask-gateway-token", "token"), hub_api_url="http://hub.dev:8081/hub/api",
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_values_valid_against_chart_schema(path) -> None:
    schema = json.loads((SCHEMAS / "dask-gateway-2026.3.0.values.schema.json").read_text())
    defaults = yaml.safe_load((SCHEMAS / "dask-gateway-2026.3.0.values.yaml").read_text())
    _, vals = _values(path)
    jsonschema.validate(helm_merge(defaults, vals), schema)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_token_comes_from_a_secret_never_values(path) -> None:
    _, vals = _values(path)
    auth = vals["gateway"]["auth"]
    assert auth["type"] == "jupyterhub"
    assert "apiToken" not in auth["jupyterhub"]
    assert auth["jupyterhub"]["apiTokenFromSecretName"] == "dask-gateway-token"
    assert auth["jupyterhub"]["jupyterhubServiceName"] == "dask-gateway"


def test_placement_and_images() -> None:
    config, vals = _values(ROOT / "stacks" / "staging.yaml")
    assert vals["gateway"]["nodeSelector"] == vals["controller"]["nodeSelector"] == {"n": "general"}
    assert vals["gateway"]["backend"]["worker"]["extraPodConfig"]["nodeSelector"] == {"n": "worker"}
    assert vals["gateway"]["backend"]["scheduler"]["extraPodConfig"]["nodeSelector"] == {"n": "worker"}
    assert vals["gateway"]["image"] == {"name": "ghcr.io/dask/dask-gateway-server", "tag": "2026.3.0"}
    name, tag = values.split_image(config.default_images.dask_worker)
    assert vals["gateway"]["backend"]["image"] == {"name": name, "tag": tag}
    # No second cloud load balancer: the hub's proxy serves the gateway.
    assert vals["traefik"]["service"]["type"] == "ClusterIP"


def test_split_image() -> None:
    assert values.split_image("ghcr.io/dask/dask-gateway:2026.3.0") == ("ghcr.io/dask/dask-gateway", "2026.3.0")
    assert values.split_image("registry:5000/dask") == ("registry:5000/dask", "")
    assert values.split_image("dask@sha256:abc") == ("dask@sha256:abc", "")


def test_user_environment() -> None:
    config = load_file(ROOT / "stacks" / "staging.yaml").config
    env = values.user_environment(config)
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["DASK_GATEWAY__ADDRESS"] == "http://traefik-dask-gateway.dev:80/services/dask-gateway"
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == "gateway://traefik-dask-gateway.dev:80"


def test_user_servers_may_reach_the_gateway_proxy_through_the_network_policy() -> None:
    """z2jh's user-pod policy blocks private IPs; without this rule Gateway() cannot connect."""
    from tests.conftest import plan_stack

    plan = plan_stack("staging")
    hub = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "jupyterhub")
    gateway = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "dask-gateway")
    (rule,) = hub.inputs["values"]["singleuser"]["networkPolicy"]["egress"]
    labels = rule["to"][0]["podSelector"]["matchLabels"]
    assert labels["app.kubernetes.io/instance"] == gateway.inputs["name"]
    assert labels["app.kubernetes.io/component"] == "traefik"
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    # The chart's tcp entrypoint shares the web port only while its port is "web".
    assert gateway.inputs["values"].get("traefik", {}).get("service", {}).get("ports", {}).get("tcp", {}).get("port", "web") == "web"
