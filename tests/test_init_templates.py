"""The starter documents of `qhub init`: valid, cheap when idle, and planned whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from qhub.config import parse_config
from qhub.init_templates import starter_config
from qhub.offline.engine import plan_program

PROVIDERS = ("aws", "gcp", "do", "azure", "existing")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_starter_is_valid_and_scales_user_and_worker_from_zero(provider: str) -> None:
    document = starter_config(provider, "lab", "lab.example.org")
    config = parse_config(document, "starter.yaml").config
    assert config.provider.value == provider
    assert config.security.users  # someone can log in
    if provider != "existing":
        groups = config.cloud.node_groups  # type: ignore[union-attr]
        assert (groups["user"].min_nodes, groups["worker"].min_nodes) == (0, 0)
        assert groups["general"].min_nodes == 1


def test_region_is_taken_when_given() -> None:
    assert starter_config("gcp", "lab", "lab.example.org", region="europe-west4")["google_cloud_platform"]["region"] == "europe-west4"
    assert starter_config("azure", "lab", "lab.example.org")["azure"]["storage_account_postfix"] == \
        starter_config("azure", "lab", "lab.example.org")["azure"]["storage_account_postfix"]


@pytest.mark.parametrize("provider", ["gcp"])
def test_starter_plans_with_the_platform(provider: str, tmp_path: Path) -> None:
    path = tmp_path / f"{provider}.yaml"
    path.write_text(yaml.safe_dump(starter_config(provider, "lab", "lab.example.org"), sort_keys=False))
    # The engine runs on the thread's current loop, which an earlier asyncio.run may have unset.
    asyncio.set_event_loop(asyncio.new_event_loop())
    plan = plan_program(path, "dev", provider)
    assert plan.of_type(f"qhub:{ {'do': 'digitalocean'}.get(provider, provider) }:Cluster")
    assert plan.of_type("qhub:platform:JupyterHub") and plan.of_type("qhub:platform:DaskGateway")
