"""`helm_extensions`: the admin's extra charts, in QHub 0.4's and Nebari's shape.

The config rules have their fixtures (`aws.error.extension-*.yaml`, tests/test_config_fixtures.py);
here: the shape that carries over, the secret check, and the plan of
tests/fixtures/configs/aws.happy.dns-and-extensions.yaml (one release per entry after the
platform's, their namespaces, their routes through the platform's Ingresses, their secrets from
the stack's config) and what `qhub plan` and `qhub diff` say about them.

The extensions' charts are whatever an admin names; they are not in ../shared/charts, so helm
cannot render them offline. The tests stop at the releases' inputs (tests/support/helm.py leaves
them out of every rendering) and check those against the SDK (tests/test_conformance.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qhub.cli.plan import print_tree
from qhub.config import parse_config
from qhub.config.extensions import PLATFORM_RELEASES, HelmExtension, looks_secret, secrets_in, split_values_path
from qhub.offline.engine import Plan, PlannedResource, plan_program
from qhub.plan_diff import diff_plans, render_text
from qhub.values.extensions import extension_values
from tests.conftest import FIXTURES, all_plans, plan_config
from tests.support.helm import EXTENSIONS_TYPE, releases

FIXTURE = FIXTURES / "configs" / "aws.happy.dns-and-extensions.yaml"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRETS = {"qhub:oauth2ProxyClientSecret": {"secure": "v1:a"}, "qhub:oauth2ProxyCookieSecret": {"secure": "v1:b"}}


@pytest.fixture(scope="module")
def plan() -> Plan:
    # The stack's config holds the two secrets the oauth2-proxy entry names.
    return plan_program(FIXTURE, "dev", "aws", extra_config=SECRETS)


def _extension_releases(plan: Plan) -> dict[str, PlannedResource]:
    (component,) = plan.of_type(EXTENSIONS_TYPE)
    return {r.inputs["name"]: r for r in plan.children(component) if r.type == RELEASE}


# -- the config -------------------------------------------------------------------------------


def test_qhub_and_nebari_entries_carry_over() -> None:
    # Nebari writes `overrides: {}`, QHub 0.4 allowed it empty (null); neither had a namespace.
    nebari = HelmExtension.model_validate({"name": "mlflow", "repository": "https://community-charts.github.io/helm-charts",
                                           "chart": "mlflow", "version": "0.7.19", "overrides": {"service": {"type": "ClusterIP"}}})
    qhub = HelmExtension.model_validate({"name": "wiki", "repository": "https://charts.example.org", "chart": "wiki",
                                         "version": "1.2.3", "overrides": None})
    assert nebari.namespace is None and nebari.overrides == {"service": {"type": "ClusterIP"}}
    assert qhub.overrides == {} and not qhub.secret_overrides and qhub.route is None


@pytest.mark.parametrize("key", ["password", "adminPassword", "client_secret", "apiKey", "api-token", "privateKey", "credentials"])
def test_secret_keys_are_recognised(key: str) -> None:
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["existingSecret", "secretName", "imagePullSecrets", "passwordSecretKey", "tokenTTL", "username"])
def test_references_to_secrets_are_not_secrets(key: str) -> None:
    assert not looks_secret(key)


def test_secrets_found_at_every_depth_and_in_env_lists() -> None:
    values = {
        "auth": {"password": "hunter2", "existingSecret": "wiki-auth"},
        "env": [{"name": "API_TOKEN", "value": "abc"}, {"name": "LOG_LEVEL", "value": "info"}],
        "enableToken": True,  # not a string: a switch, not a secret
        "emptyPassword": "",
    }
    assert secrets_in(values) == [("auth", "password"), ("env", 0, "value")]


def test_values_paths_split_like_helm_set() -> None:
    assert split_values_path("config.clientSecret") == ["config", "clientSecret"]
    assert split_values_path(r"ingress.annotations.nginx\.org/x") == ["ingress", "annotations", "nginx.org/x"]


def test_secrets_set_into_a_copy_of_the_overrides() -> None:
    overrides = {"config": {"clientID": "id"}}
    values = extension_values(overrides, {"config.clientSecret": "s", "auth.token": "t"})
    assert values == {"config": {"clientID": "id", "clientSecret": "s"}, "auth": {"token": "t"}}
    assert overrides == {"config": {"clientID": "id"}}


def test_secret_path_through_a_plain_value_is_refused() -> None:
    document = yaml.safe_load(FIXTURE.read_text())
    document["helm_extensions"][1]["overrides"]["config"] = "not a mapping"
    with pytest.raises(Exception) as caught:
        parse_config(document, "inline")
    assert "helm_extensions[1].secret_overrides['config.clientSecret']: goes through a value of overrides that is not a mapping" in str(caught.value)


def test_platform_release_names_are_all_reserved() -> None:
    # Every release the platform and the clouds install, in every plan, is a name extensions may not take.
    for label, thunk in all_plans().items():
        planned = thunk()
        extensions = set(_extension_releases(planned)) if planned.of_type(EXTENSIONS_TYPE) else set()
        names = {r.inputs["name"] for r in planned.of_type(RELEASE)} - extensions
        assert names <= PLATFORM_RELEASES, f"{label}: {sorted(names - PLATFORM_RELEASES)}"


# -- the plan ---------------------------------------------------------------------------------


def test_one_pinned_release_per_entry_after_the_platforms(plan: Plan) -> None:
    found = _extension_releases(plan)
    assert set(found) == {"podinfo", "oauth2-proxy"}
    oci, https = found["podinfo"].inputs, found["oauth2-proxy"].inputs
    # An OCI chart is named by its full reference and has no repository; an https one has its repo.
    assert oci["chart"] == "oci://ghcr.io/stefanprodan/charts/podinfo" and "repositoryOpts" not in oci
    assert https["chart"] == "oauth2-proxy" and https["repositoryOpts"] == {"repo": "https://oauth2-proxy.github.io/manifests"}
    assert (oci["version"], https["version"]) == ("6.9.2", "8.3.0")
    assert (oci["namespace"], https["namespace"]) == ("tools", "dev")
    platform_releases = [r.urn for r in plan.of_type(RELEASE) if r.inputs["name"] in ("jupyterhub", "dask-gateway", "qhub-ingress", "cert-manager")]
    for release in found.values():
        assert release.inputs["atomic"] is True
        assert set(platform_releases) <= set(release.dependencies), release.name


def test_other_namespace_created_and_waited_for(plan: Plan) -> None:
    (namespace,) = [r for r in plan.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "tools"]
    assert namespace.parent == plan.of_type(EXTENSIONS_TYPE)[0].urn
    found = _extension_releases(plan)
    assert namespace.urn in found["podinfo"].dependencies
    assert found["podinfo"].inputs["createNamespace"] is False  # Pulumi owns it, so it goes with its last entry


def test_values_are_the_overrides_with_secrets_only_from_the_stack(plan: Plan) -> None:
    found = _extension_releases(plan)
    assert found["podinfo"].inputs["values"] == {"replicaCount": 2, "ui": {"message": "Hello from the lab"}}
    config = found["oauth2-proxy"].inputs["values"]["config"]
    # Only the two secret values are secret; the rest of the values stays readable in the plan.
    assert config == {"clientID": "lab-oauth2-proxy", "clientSecret": "[secret]", "cookieSecret": "[secret]"}
    assert "offline-placeholder" not in json.dumps(found["oauth2-proxy"].inputs)


def test_routes_are_minions_of_the_platforms_master_in_the_extensions_namespace(plan: Plan) -> None:
    ingresses = {r.inputs["metadata"]["name"]: r for r in plan.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    for name, namespace, path, service, port in (("qhub-ext-podinfo", "tools", "/podinfo", "podinfo", 9898),
                                                 ("qhub-ext-oauth2-proxy", "dev", "/oauth2", "oauth2-proxy", 80)):
        minion = ingresses[name].inputs
        assert minion["metadata"]["namespace"] == namespace
        assert minion["metadata"]["annotations"]["nginx.org/mergeable-ingress-type"] == "minion"
        (rule,) = minion["spec"]["rules"]
        assert rule["host"] == "lab.example.org" and minion["spec"]["ingressClassName"] == ingresses["qhub"].inputs["spec"]["ingressClassName"]
        (entry,) = rule["http"]["paths"]
        assert entry == {"path": path, "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"number": port}}}}
    (tools,) = [r for r in plan.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "tools"]
    assert tools.urn in ingresses["qhub-ext-podinfo"].dependencies


def test_missing_secret_warns_in_a_preview() -> None:
    # Without the stack's secrets a preview goes on (the pull request of a fork has none); the
    # secret values are then empty secrets, never plain text.
    planned = plan_config(FIXTURE)
    config = _extension_releases(planned)["oauth2-proxy"].inputs["values"]["config"]
    assert config["clientSecret"] == config["cookieSecret"] == "[secret]"


def test_missing_secret_stops_an_update(monkeypatch: pytest.MonkeyPatch) -> None:
    # An update would install the chart with an empty secret; it stops with the command to run.
    import pulumi

    from qhub.platform import extensions

    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    with pytest.raises(pulumi.RunError, match=r"pulumi config set --secret qhub:oauth2ProxyClientSecret"):
        extensions._secret("oauth2ProxyClientSecret", "oauth2-proxy", None)  # type: ignore[arg-type]


def test_helm_renders_only_the_platforms_releases(plan: Plan) -> None:
    rendered = {r.inputs["name"] for r in releases(plan)}
    assert not rendered & {"podinfo", "oauth2-proxy"} and {"jupyterhub", "qhub-ingress"} <= rendered


def test_plan_lists_them(plan: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    print_tree(plan.to_json())
    printed = capsys.readouterr().out
    assert "lab-aws-dev-extensions-podinfo  (kubernetes:helm.sh/v3:Release)" in printed
    assert '"podinfo": "podinfo 6.9.2 from oci://ghcr.io/stefanprodan/charts in tools"' in printed


def test_diff_flags_a_removed_entry_as_an_uninstall(plan: Plan, tmp_path: Path) -> None:
    document = yaml.safe_load(FIXTURE.read_text())
    document["helm_extensions"] = document["helm_extensions"][:1]
    head_config = tmp_path / "head.yaml"
    head_config.write_text(yaml.safe_dump(document))
    head = plan_program(head_config, "dev", "aws", extra_config=SECRETS)
    diff = diff_plans(plan.to_json(), head.to_json())
    assert any(r["name"] == "lab-aws-dev-extensions-oauth2-proxy" for r in diff.removed)
    (uninstall,) = [risk for risk in diff.risks if "uninstalled" in risk]
    assert uninstall.startswith("helm release `oauth2-proxy` (oauth2-proxy 8.3.0, namespace dev) is uninstalled")
    assert "WARNING: helm release `oauth2-proxy`" in render_text(diff)
    assert not diff.data_loss
