"""Whether a connection is allowed by a set of Kubernetes NetworkPolicies.

No network plugin runs here, so this follows the NetworkPolicy API's documented semantics
(networking.k8s.io/v1; kubernetes.io/docs/concepts/services-networking/network-policies):

- a pod is isolated for ingress (egress) when a policy of its namespace selects it and lists
  Ingress (Egress) in policyTypes (left out: Ingress, plus Egress when the policy has egress
  rules); a pod no policy isolates accepts (sends) everything;
- an isolated pod admits a connection that some rule of a selecting policy allows: every port
  of the rule's `ports` (none: all ports; a named port is the destination pod's container port
  of that name; protocol TCP unless given; `endPort` closes a range), from any of its peers
  (none: everyone);
- a peer's podSelector alone means pods of the policy's namespace; with a namespaceSelector,
  pods of matching namespaces; an ipBlock matches addresses in its CIDR but not in `except`.
  Whether an ipBlock also matches pod addresses is the plugin's choice; here it does (as
  Calico does), which admits more, never less;
- a connection needs both the source's egress and the destination's ingress to allow it.

The endpoints are the pods of the plan (from the rendered charts, QHub's Deployments and the
dask-gateway controller's own pods), nodes and outside addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace set) or an address outside any pod (a node, the internet)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    """Named container ports (a named policy port resolves against the destination's)."""

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


def pod(name: str, ip: str, namespace: str, template: Mapping[str, Any]) -> Endpoint:
    """A pod from a pod (or pod template) manifest: its labels and named container ports."""
    spec = template.get("spec", {})
    ports = {p["name"]: p["containerPort"] for c in spec.get("containers", []) for p in c.get("ports", []) if p.get("name")}
    return Endpoint(name, ip, namespace, dict(template.get("metadata", {}).get("labels") or {}), ports)


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector: every matchLabels pair and every matchExpressions requirement ({} = all)."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator, values = requirement["key"], requirement["operator"], requirement.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except") or [])
    if not other.is_pod:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], {"kubernetes.io/metadata.name": str(other.namespace)}):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], other.labels)


def _port_matches(rule_ports: Sequence[Mapping[str, Any]] | None, destination: Endpoint, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for entry in rule_ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = destination.ports.get(wanted)
            if wanted is None:
                continue
        if wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


def _types(policy: Mapping[str, Any]) -> list[str]:
    spec = policy["spec"]
    return spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]


def _selecting(policies: Iterable[Mapping[str, Any]], endpoint: Endpoint, direction: str) -> list[Mapping[str, Any]]:
    return [p for p in policies if endpoint.is_pod and p["metadata"].get("namespace") == endpoint.namespace
            and direction in _types(p) and selector_matches(p["spec"].get("podSelector"), endpoint.labels)]


def isolated(policies: Iterable[Mapping[str, Any]], endpoint: Endpoint, direction: str) -> bool:
    """Whether some policy isolates this pod for "Ingress" or "Egress"."""
    return bool(_selecting(policies, endpoint, direction))


def _allows(policies: Sequence[Mapping[str, Any]], subject: Endpoint, other: Endpoint, destination: Endpoint,
            port: int, protocol: str, direction: str) -> bool:
    selecting = _selecting(policies, subject, direction)
    if not selecting:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            if _port_matches(rule.get("ports"), destination, port, protocol) and (
                    not peers or any(_peer_matches(peer, policy["metadata"]["namespace"], other) for peer in peers)):
                return True
    return False


def allowed(policies: Sequence[Mapping[str, Any]], source: Endpoint, destination: Endpoint, port: int,
            protocol: str = "TCP") -> bool:
    """Whether `source` may open a connection to `destination`'s `port`."""
    return (_allows(policies, source, destination, destination, port, protocol, "Egress")
            and _allows(policies, destination, source, destination, port, protocol, "Ingress"))
