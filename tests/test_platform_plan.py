"""The platform layer I components in a planned stack: structure, protection, ordering, outputs.

Plans tests/fixtures/configs/existing.platform.yaml (in-cluster NFS, GitHub login, self-signed
certificate) once through the cached conftest helper, plus one copy with a larger shared drive
to show growth is an in-place change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qhub import versions
from qhub.offline.engine import Plan, PlannedResource
from tests.conftest import COMPAT_CONFIGS, FIXTURES, plan_config
from tests.support.kubernetes_schema import manifest_of, validate

HAPPY = FIXTURES / "configs" / "existing.platform.yaml"
NAME = "qhub-existing-dev"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_config(HAPPY)


def test_components_and_their_parents(plan: Plan) -> None:
    (platform,) = plan.of_type("qhub:platform:Platform")
    assert platform.name == NAME
    for role, token in [("storage", "SharedStorage"), ("ingress", "IngressController"), ("tls", "CertManager"), ("jupyterhub", "JupyterHub")]:
        component = plan.named(f"{NAME}-{role}")
        assert component.type == f"qhub:platform:{token}" and component.parent == platform.urn
        assert all(child.name.startswith(f"{NAME}-{role}-") for child in plan.children(component))


def test_every_kubernetes_object_uses_the_cluster_provider(plan: Plan) -> None:
    provider = plan.named(f"{NAME}-k8s")
    for resource in plan.resources:
        if resource.custom and resource.type.startswith("kubernetes:"):
            assert resource.provider and resource.provider.startswith(provider.urn), resource.name


def _of(plan: Plan, kind: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(f"kubernetes:core/v1:{kind}") if r.name.startswith(f"{NAME}-storage")]


def test_storage_holding_user_data_is_protected(plan: Plan) -> None:
    claims, volumes = _of(plan, "PersistentVolumeClaim"), _of(plan, "PersistentVolume")
    assert len(claims) == 2 and len(volumes) == 1
    for resource in claims + volumes:
        assert resource.protect and resource.retain_on_delete, resource.name


def test_in_cluster_nfs_server_on_block_storage(plan: Plan) -> None:
    disk = plan.named(f"{NAME}-storage-nfs-disk")
    assert disk.inputs["spec"]["storageClassName"] == "fast-ssd"
    assert disk.inputs["spec"]["resources"]["requests"]["storage"] == "200Gi"
    server = plan.named(f"{NAME}-storage-nfs-server").inputs["spec"]["template"]["spec"]
    assert server["nodeSelector"] == {"node-role.example.org/group": "general"}
    volume = plan.named(f"{NAME}-storage-volume").inputs["spec"]
    assert volume["nfs"]["server"].startswith("10.") and volume["persistentVolumeReclaimPolicy"] == "Retain"
    claim = plan.named(f"{NAME}-storage-claim").inputs
    assert claim["metadata"]["name"] == "qhub-shared" and claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_growing_the_shared_drive_changes_no_replace_triggering_field(plan: Plan, tmp_path: Path) -> None:
    document = yaml.safe_load(HAPPY.read_text())
    document["storage"]["shared_filesystem"] = "500Gi"
    bigger = tmp_path / "existing.bigger.yaml"
    bigger.write_text(yaml.safe_dump(document))
    grown = plan_config(bigger)
    # pulumi-kubernetes 4.x replaces a PVC for accessModes, selector, storageClassName or
    # volumeName, and a PersistentVolume for its volume source; sizes are patched in place.
    for name, fields in [("nfs-disk", ("accessModes", "storageClassName", "volumeName", "selector")),
                         ("claim", ("accessModes", "storageClassName", "volumeName", "selector")),
                         ("volume", ("nfs",))]:
        before, after = plan.named(f"{NAME}-storage-{name}").inputs, grown.named(f"{NAME}-storage-{name}").inputs
        assert before["metadata"]["name"] == after["metadata"]["name"]
        for field in fields:
            assert before["spec"].get(field) == after["spec"].get(field), (name, field)
    assert grown.named(f"{NAME}-storage-nfs-disk").inputs["spec"]["resources"]["requests"]["storage"] == "500Gi"


def test_releases_pinned_in_versions(plan: Plan) -> None:
    releases = {r.inputs["chart"]: r.inputs for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    for chart in (versions.JUPYTERHUB_CHART, versions.NGINX_INGRESS_CHART, versions.CERT_MANAGER_CHART):
        assert releases[chart.name]["version"] == chart.version
        assert releases[chart.name]["repositoryOpts"]["repo"] == chart.repo


def test_cluster_issuers_wait_for_cert_manager(plan: Plan) -> None:
    release = plan.named(f"{NAME}-tls-release")
    issuers = plan.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert {i.inputs["metadata"]["name"] for i in issuers} == {"analytics-letsencrypt-production", "analytics-letsencrypt-staging", "analytics-self-signed"}
    for issuer in issuers:
        assert release.urn in issuer.dependencies
    assert plan.named(f"{NAME}-tls-release").inputs["values"]["crds"]["enabled"] is True


def test_hub_waits_for_its_secret_and_the_ingress_for_the_controller_and_issuers(plan: Plan) -> None:
    hub = plan.named(f"{NAME}-jupyterhub-release")
    # A dependency on a component is recorded as one on each of its resources.
    for dependency in (f"{NAME}-jupyterhub-secrets", f"{NAME}-jupyterhub-config", f"{NAME}-storage-claim"):
        assert plan.named(dependency).urn in hub.dependencies, dependency
    master = plan.named(f"{NAME}-routes")
    minions = [r for r in plan.of_type("kubernetes:networking.k8s.io/v1:Ingress") if r is not master]
    ingress_class = plan.named(f"{NAME}-ingress-release").inputs["values"]["controller"]["ingressClass"]["name"]
    for ingress in (master, *minions):
        for dependency in (f"{NAME}-ingress-release", f"{NAME}-tls-release", f"{NAME}-tls-issuer-self-signed"):
            assert plan.named(dependency).urn in ingress.dependencies, dependency
        assert ingress.inputs["spec"]["ingressClassName"] == ingress_class
    assert master.inputs["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "analytics-self-signed"
    backends = {p["path"]: p["backend"]["service"]["name"]
                for minion in minions for p in minion.inputs["spec"]["rules"][0]["http"]["paths"]}
    assert backends == {"/": "proxy-public", "/conda-store": "conda-store-server"}


def test_hub_secret_from_pulumi_secrets_and_not_in_values(plan: Plan) -> None:
    secret = plan.named(f"{NAME}-jupyterhub-secrets")
    assert secret.inputs["stringData"] == "[secret]"
    for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
        text = json.dumps(release.inputs["values"])
        assert "[secret]" not in text and "offline-client-secret" not in text, release.name


def test_hub_config_module_shipped_verbatim(plan: Plan) -> None:
    from qhub.values.hub_config import source
    config_map = plan.named(f"{NAME}-jupyterhub-config")
    assert config_map.inputs["data"] == {"qhub_hub.py": source()}


def test_stack_outputs(plan: Plan) -> None:
    outputs = plan.outputs
    assert outputs["hub_url"] == "https://hub.example.org/"
    assert outputs["load_balancer_address"].endswith(".example.com")
    assert outputs["dns_record"] == {"name": "hub.example.org", "type": "CNAME", "value": outputs["load_balancer_address"]}


@pytest.mark.parametrize("path", [p for p in COMPAT_CONFIGS if "auth0_provision" in p.name], ids=lambda p: p.name)
def test_auth0_client_created_when_config_has_none(path: Path) -> None:
    auth_plan = plan_config(path)
    (client,) = auth_plan.of_type("auth0:index/client:Client")
    assert client.inputs["appType"] == "regular_web"
    assert client.inputs["callbacks"] == ["https://do4.qhub.dev/hub/oauth_callback"]
    env = {e["name"]: e for e in next(r for r in auth_plan.of_type("kubernetes:helm.sh/v3:Release")
                                      if r.inputs["chart"] == "jupyterhub").inputs["values"]["hub"]["extraEnv"]}
    assert env["OAUTH_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "qhub-hub-secrets"
    assert env["AUTH0_DOMAIN"]["value"].endswith("auth0.com")


def test_platform_objects_valid_for_kubernetes_1_33(plan: Plan) -> None:
    """Strict schema check of the layer's own objects; a Secret's stringData, which the plan shows
    only as "[secret]" (the whole map is a secret Output), is checked as a map of its keys."""
    checked = 0
    for resource in plan.resources:
        group = resource.type.split(":")[1].split("/")[0] if resource.type.startswith("kubernetes:") else ""
        if not resource.custom or resource.read or group in ("", "helm.sh", "cert-manager.io") or not resource.name.startswith(NAME):
            continue
        validate(manifest_of(resource.inputs))
        checked += 1
    assert checked >= 8
