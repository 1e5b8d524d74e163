"""conda-store's unauthenticated metrics and Celery routes are not reachable from the internet.

conda-store-server 2025.2.2 serves `{url_prefix}/metrics` and `{url_prefix}/celery` (Celery
workers' stats, active and scheduled tasks) without authentication, and the platform's Ingress
sends all of `/conda-store` to conda-store. Here each probe of the internet goes through the
plan's Ingress rules (tests/support/ingress_routes.py); what reaches conda-store is answered by
the real conda-store-server app running QHub's config (tests/support/conda_store.py and the
driver it runs), anonymously, through FastAPI's TestClient. In-cluster readers (Prometheus,
once monitoring exists) get the metrics at the Service's /metrics.
"""

from __future__ import annotations

import pytest

from qhub.values import conda_store as values
from tests.conftest import all_plans
from tests.support.conda_store import METRICS_PROBES, conda_store_run
from tests.support.ingress_routes import Backend, backend_for, plan_ingresses

LABELS = ("stack-staging", "compat-config_gcp")
CONDA_STORE = Backend("conda-store-server", values.SERVER_PORT)


@pytest.mark.parametrize("label", LABELS)
def test_no_public_path_reaches_the_metrics_or_celery_routes(label: str) -> None:
    run = conda_store_run(label)
    ingresses = plan_ingresses(all_plans()[label]())
    # The Ingress does send conda-store's prefix to it (else this test would prove nothing).
    assert backend_for(ingresses, run.config.domain, f"{values.URL_PREFIX}/api/v1/") == CONDA_STORE
    reached = []
    for path in METRICS_PROBES:
        if backend_for(ingresses, run.config.domain, path) != CONDA_STORE:
            continue  # the hub's proxy or nothing: conda-store never sees it
        reached.append(path)
        answer = run.report["anonymous"][f"GET {path}"]
        assert answer["status"] == 404, (path, answer)
        assert "conda_store_" not in answer["body"] and "active_tasks" not in answer["body"], (path, answer)
    # Every prefixed probe did reach conda-store (and was refused there); the root ones did not.
    assert reached == [p for p in METRICS_PROBES if p.startswith(f"{values.URL_PREFIX}/")]


@pytest.mark.parametrize("label", LABELS)
def test_metrics_answer_in_the_cluster(label: str) -> None:
    """GET /metrics on the conda-store Service, as Prometheus would: conda-store's own handler."""
    answer = conda_store_run(label).report["anonymous"][f"GET {values.METRICS_PATH}"]
    assert answer["status"] == 200, answer
    lines = dict(line.split(" ", 1) for line in answer["body"].splitlines())
    # Counts the worker just registered from the config (conda_store_server.api.get_metrics).
    assert int(lines["conda_store_environments"]) == len(conda_store_run(label).config.environments)
    assert "conda_store_disk_free" in lines
