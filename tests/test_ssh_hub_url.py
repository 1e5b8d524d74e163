"""The hub URL QHub gives jupyterhub-ssh leads to JupyterHub's proxy, as the real chart deploys it.

jupyterhub-ssh's ssh server (a Python asyncssh app) cannot run here: it is not on PyPI (the
PyPI package `jupyterhub-ssh` is an unrelated hub extension) and its image cannot be pulled.
What does run is the z2jh chart, rendered by the real helm from the plan's release
(tests/support/helm.py). The server sends every request to `hubUrl`: token checks and server
starts (/hub/api/...) and terminals (/user/<name>/...). So here the URL must name the chart's
proxy Service, that Service must lead to the proxy's HTTP port, and the network policies of
the plan (QHub's for the ssh pod, the chart's for the proxy) must let the ssh pod through.

The URL itself comes from qhub.values.ssh.hub_url: in the plan it sits in the server's
values.yaml in the Secret next to the host key, so the whole Secret's content is "[secret]" there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest

from qhub.config import load_file
from qhub.values import ssh as values
from tests.conftest import all_plans, plan_sources
from tests.support.container import find, plan_objects
from tests.support.helm import stack_kubernetes_version

LABELS = ("stack-staging", "compat-config_gcp")
SSH_DEPLOYMENT = "jupyterhub-ssh"


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Kubernetes label selector semantics: every matchLabels pair and every expression holds."""
    expressions = {
        "In": lambda key, values: labels.get(key) in values,
        "NotIn": lambda key, values: labels.get(key) not in values,
        "Exists": lambda key, values: key in labels,
        "DoesNotExist": lambda key, values: key not in labels,
    }
    return (all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())
            and all(expressions[e["operator"]](e["key"], e.get("values", [])) for e in selector.get("matchExpressions", [])))


def _pod(workload: Mapping[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    template = workload["spec"]["template"]
    return template["metadata"]["labels"], template["spec"]["containers"]


def _port_number(port: int | str, containers: list[dict[str, Any]]) -> int | None:
    """A NetworkPolicy or Service port: a number, or the name of a container port of the pod
    (None when the pod has no port of that name: such an entry matches nothing)."""
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for c in containers for p in c.get("ports", []) if p.get("name") == port]
    return numbers[0] if numbers else None


def _allows(rule: Mapping[str, Any], peer_key: str, peer_labels: Mapping[str, str], port: int,
            port_owner: list[dict[str, Any]]) -> bool:
    """Whether one ingress/egress rule lets traffic to `port` pass for a peer in the same namespace."""
    ports = rule.get("ports")
    if ports and port not in {_port_number(p["port"], port_owner) for p in ports if p.get("protocol", "TCP") == "TCP"}:
        return False
    peers = rule.get(peer_key)
    return not peers or any("podSelector" in p and "namespaceSelector" not in p and _selects(p["podSelector"], peer_labels)
                            for p in peers)


@pytest.fixture(params=LABELS, scope="module")
def plan(request: pytest.FixtureRequest) -> tuple[Any, list[dict[str, Any]]]:
    config = load_file(plan_sources()[request.param]).config
    return config, plan_objects(all_plans()[request.param](), stack_kubernetes_version(config))


def _proxy(config: Any, objects: list[dict[str, Any]]) -> tuple[dict[str, str], list[dict[str, Any]], int]:
    """The proxy pod behind hubUrl (labels, containers) and the pod port the URL reaches."""
    url = urlsplit(values.hub_url(config))
    service_name, _, namespace = (url.hostname or "").partition(".")
    assert url.scheme == "http" and namespace == config.namespace and url.path in ("", "/")
    service = find(objects, "Service", service_name, namespace)
    (service_port,) = [p for p in service["spec"]["ports"] if p["port"] == (url.port or 80)]
    (proxy,) = [o for o in objects if o.get("kind") == "Deployment" and o["metadata"].get("namespace") == namespace
                and _selects({"matchLabels": service["spec"]["selector"]}, _pod(o)[0])]
    labels, containers = _pod(proxy)
    port = _port_number(service_port["targetPort"], containers)
    assert port is not None, f"{service_name} targets {service_port['targetPort']!r}, which the proxy pod does not have"
    return labels, containers, port


def test_hub_url_names_the_charts_proxy_on_its_http_port(plan: tuple[Any, list[dict[str, Any]]]) -> None:
    config, objects = plan
    labels, containers, port = _proxy(config, objects)
    assert labels["component"] == "proxy"
    (chp,) = [c for c in containers if any(p["containerPort"] == port for p in c.get("ports", []))]
    # configurable-http-proxy's public (not API) port: /hub/api and /user/ are both routed there.
    assert chp["name"] == "chp" and {p["name"] for p in chp["ports"] if p["containerPort"] == port} == {"http"}


def test_network_policies_let_the_ssh_pod_reach_the_proxy(plan: tuple[Any, list[dict[str, Any]]]) -> None:
    config, objects = plan
    proxy_labels, proxy_containers, port = _proxy(config, objects)
    ssh_labels, _ = _pod(find(objects, "Deployment", SSH_DEPLOYMENT, config.namespace))
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy" and o["metadata"].get("namespace") == config.namespace]

    def admitted(direction: str, owner_labels: Mapping[str, str], peer_key: str, peer_labels: Mapping[str, str]) -> bool:
        applying = [p["spec"] for p in policies if _selects(p["spec"]["podSelector"], owner_labels)
                    and direction in p["spec"].get("policyTypes", ["Ingress"])]
        rules_key = direction.lower()
        return not applying or any(_allows(rule, peer_key, peer_labels, port, proxy_containers)
                                   for spec in applying for rule in spec.get(rules_key, []))

    assert any(_selects(p["spec"]["podSelector"], ssh_labels) for p in policies), "the ssh pod has no policy of its own"
    assert admitted("Egress", ssh_labels, "to", proxy_labels), "the ssh pod's egress does not reach the proxy"
    assert admitted("Ingress", proxy_labels, "from", ssh_labels), "the proxy does not admit the ssh pod"
