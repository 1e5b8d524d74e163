"""Data safety on every provider: production clusters are protected, and the way out is printed.

The hub's database and every dynamically provisioned disk live inside the cluster, so on a
production stack (the QHub file's `production`, on by default for the Pulumi stacks `prod` and
`production`) the cluster is protected and `pulumi destroy` stops in its preview. Each managed
cloud's happy fixture is planned as stack `prod` and compared with its plan as `dev`; the
`protection` stack output says what to unprotect on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qhub.config import load_file
from qhub.offline.engine import Plan, plan_program
from tests.conftest import FIXTURES, plan_config, plan_stack

CLUSTER_TYPES = {
    "aws": "aws:eks/cluster:Cluster", "gcp": "gcp:container/cluster:Cluster",
    "azure": "azure-native:containerservice:ManagedCluster", "do": "digitalocean:index/kubernetesCluster:KubernetesCluster",
}


def _fixture(cloud: str) -> Path:
    return FIXTURES / "configs" / f"{cloud}.happy.yaml"


def _cluster(plan: Plan, cloud: str) -> dict[str, object]:
    clusters = plan.of_type(CLUSTER_TYPES[cloud])
    assert len(clusters) == 1
    return {"protect": clusters[0].protect, "inputs": clusters[0].inputs}


@pytest.mark.parametrize("cloud", list(CLUSTER_TYPES))
def test_the_cluster_of_a_production_stack_is_protected(cloud: str) -> None:
    dev = plan_config(_fixture(cloud))
    prod = plan_program(_fixture(cloud), "prod", cloud)
    assert _cluster(dev, cloud)["protect"] is False
    assert _cluster(prod, cloud)["protect"] is True
    if cloud == "gcp":  # GKE's own guard follows the same key
        assert _cluster(dev, cloud)["inputs"]["deletionProtection"] is False  # type: ignore[index]
        assert _cluster(prod, cloud)["inputs"]["deletionProtection"] is True  # type: ignore[index]
    # Node groups hold nothing that outlives a node (their disks are the nodes' root disks).
    node_types = {"aws:eks/nodeGroup:NodeGroup", "gcp:container/nodePool:NodePool",
                  "azure-native:containerservice:AgentPool", "digitalocean:index/kubernetesNodePool:KubernetesNodePool"}
    assert not [r.name for r in prod.resources if r.type in node_types and r.protect]
    # Where users see it: `pulumi stack output protection`.
    notice = prod.outputs["protection"]
    assert notice.startswith("Production stack: ") and "`production: false`" in notice and "`pulumi up`" in notice
    assert "pulumi state unprotect" in notice
    assert dev.outputs["protection"].startswith(f"The {notice.split('the ', 1)[1].split(' is protected')[0]} is not protected")


def test_the_repository_prod_stack_protects_its_cluster_and_staging_does_not() -> None:
    assert plan_stack("prod").of_type("aws:eks/cluster:Cluster")[0].protect is True
    assert plan_stack("staging").of_type("aws:eks/cluster:Cluster")[0].protect is False


def test_the_production_key_overrides_the_stack_name(tmp_path: Path) -> None:
    source = _fixture("do")
    for production, stack, expected in ((True, "dev", True), (False, "prod", False)):
        path = tmp_path / f"do-{production}.yaml"
        path.write_text(yaml.safe_dump({**yaml.safe_load(source.read_text()), "production": production}))
        assert load_file(path).config.is_production(stack) is expected
        if production:  # planned once: the key reaches the cluster
            assert _cluster(plan_program(path, stack, "do"), "do")["protect"] is True
    config = load_file(source).config
    assert config.production is None
    assert [config.is_production(s) for s in ("prod", "production", "staging", "dev")] == [True, True, False, False]


def test_an_existing_cluster_is_not_the_stacks_to_protect() -> None:
    plan = plan_config(_fixture("existing"))
    assert plan.outputs["protection"].startswith("The cluster is not this stack's (provider existing)")


@pytest.mark.parametrize("cloud", [*CLUSTER_TYPES, "existing"])
def test_the_hub_database_claim_outlives_its_release(cloud: str) -> None:
    """z2jh's own template, rendered by helm, gives the hub-db claim Helm's keep policy: an
    uninstalled or replaced release leaves the claim (users, API tokens, named servers), and a
    release of the same name in the same namespace adopts it again."""
    from tests.support.helm import objects_of, release_named, render_release, stack_kubernetes_version

    plan = plan_config(_fixture(cloud))
    rendered = render_release(release_named(plan, "jupyterhub"), stack_kubernetes_version(load_file(_fixture(cloud)).config))
    (claim,) = objects_of(rendered, "PersistentVolumeClaim", "hub-db-dir")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    hub = objects_of(rendered, "Deployment", "hub")[0]["spec"]["template"]["spec"]
    assert {"name": "pvc", "persistentVolumeClaim": {"claimName": "hub-db-dir"}} in hub["volumes"]
