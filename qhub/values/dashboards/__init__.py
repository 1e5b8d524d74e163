"""QHub's Grafana dashboards: the JSON files beside this module, one dashboard each.

Each becomes a ConfigMap labelled `grafana_dashboard: "1"` that Grafana's sidecar loads into
the folder FOLDER (qhub/platform/monitoring.py). Their queries use only metric names the
platform's sources export (tests/test_dashboards.py checks every one): JupyterHub 5.5's,
conda-store's, kube-state-metrics' (with QHub's relabelings: `node_group`, `username`,
`primary_group`, `component`, `dask_cluster`, and the DaskCluster info series), cAdvisor's and
the kubelet's volume statistics. `$namespace` is a constant variable set to the platform's
namespace when the ConfigMap is made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOLDER = "QHub"
NAMESPACE_PLACEHOLDER = "${namespace}"
_DIR = Path(__file__).parent


def dashboard_files() -> dict[str, str]:
    """File name -> JSON text, as committed."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(_DIR.glob("*.json"))}


def for_namespace(text: str, namespace: str) -> str:
    """A dashboard's JSON with its `namespace` constant set to the platform's namespace."""
    dashboard: dict[str, Any] = json.loads(text)
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("name") == "namespace" and variable.get("type") == "constant":
            variable["query"] = namespace
            variable["current"] = {"text": namespace, "value": namespace}
    return json.dumps(dashboard, sort_keys=True, separators=(",", ":"))
