"""Which Service a public request reaches, by the Ingress rules of a plan.

No ingress controller runs here, so the choice follows the Kubernetes Ingress API's matching
rules (networking.k8s.io/v1 HTTPIngressPath): an `Exact` path matches the whole path; a
`Prefix` path matches element by element on `/` (`/foo` matches `/foo` and `/foo/bar`, not
`/foobar`); the longest matching path wins, and `Exact` wins a tie. Every Ingress of the host
counts, as F5's controller merges a mergeable master's minions into one server. NGINX matches
the decoded, normalised path (`%2F`, `//`, `/./` and `/../` resolved), so probes are given in
that form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qhub.offline.engine import Plan

INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress"


@dataclass(frozen=True)
class Backend:
    service: str
    port: int


def plan_ingresses(plan: Plan) -> list[dict[str, Any]]:
    return [r.inputs for r in plan.of_type(INGRESS_TYPE)]


def _matches(path_type: str, rule_path: str, path: str) -> bool:
    if path_type == "Exact":
        return path == rule_path
    prefix = [part for part in rule_path.split("/") if part]
    return [part for part in path.split("/") if part][:len(prefix)] == prefix


def backend_for(ingresses: Iterable[Mapping[str, Any]], host: str, path: str) -> Backend | None:
    """The Service (and port) a request for https://<host><path> is sent to, or None."""
    best: tuple[int, bool, Backend] | None = None
    for ingress in ingresses:
        for rule in ingress.get("spec", {}).get("rules", []):
            if rule.get("host") != host:
                continue
            for entry in rule.get("http", {}).get("paths", []):
                path_type = entry.get("pathType", "Prefix")
                if not _matches(path_type, entry["path"], path):
                    continue
                service = entry["backend"]["service"]
                candidate = (len(entry["path"].rstrip("/")), path_type == "Exact",
                             Backend(service["name"], service["port"]["number"]))
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    return best[2] if best else None
