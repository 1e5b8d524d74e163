"""`jupyterhub.overrides` and `dask_gateway.overrides` (qhub/config/chart_overrides.py).

Checked offline against the charts' own schemas, pinned in qhub/schemas (equal to the charts'),
with the verdicts the real helm reaches on the merged values; refused where QHub owns the key
(each listed in the README) or the value is a secret; merged over QHub's values they still
render with the real helm (tests/test_helm_render.py renders the fixture), and the real hub and
gateway run with them: every user logs in and spawns every profile offered, with what the
overrides add (tests/support/hub.py, tests/support/gateway.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from qhub import versions
from qhub.config import load_file
from qhub.config.chart_overrides import DASK_GATEWAY, JUPYTERHUB, SCHEMAS, override_problems
from qhub.values.jupyterhub import deep_merge
from tests.conftest import FIXTURES, ROOT, SHARED, all_plans, plan_sources
from tests.support.gateway import GatewayRuns
from tests.support.helm import HelmError, release_named, render, stack_kubernetes_version
from tests.support.hub import hub_run

FIXTURE = "fixture-gcp.happy.warm-overrides"
NOT_IN_CHART = FIXTURES / "configs" / "aws.error.override-not-in-chart.yaml"


@pytest.mark.parametrize("rules", [JUPYTERHUB, DASK_GATEWAY], ids=lambda r: r.chart.name)
def test_pinned_schemas_are_the_charts_own(rules: Any) -> None:
    """`qhub validate` runs without ../shared; its copies are the schemas helm validates with."""
    chart = SHARED / "charts" / f"{rules.chart.name}-{rules.chart.version}" / "values.schema.json"
    assert rules.schema_file.read_bytes() == chart.read_bytes()
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{c.name}-{c.version}.values.schema.json" for c in (versions.JUPYTERHUB_CHART, versions.DASK_GATEWAY_CHART))


def _render(plan_label: str, release: str, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The release of a plan rendered by the real helm with `extra` merged over its values."""
    planned = release_named(all_plans()[plan_label](), release)
    config = load_file(plan_sources()[plan_label]).config
    inputs = planned.inputs
    return render(inputs["chart"], inputs["version"], inputs["name"], inputs["namespace"],
                  deep_merge(inputs["values"], extra), stack_kubernetes_version(config))


def _raw_overrides(path: Any, section: str) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(path.read_text())[section]["overrides"])


@pytest.mark.parametrize(("release", "section", "rules"), [("jupyterhub", "jupyterhub", JUPYTERHUB),
                                                           ("dask-gateway", "dask_gateway", DASK_GATEWAY)])
def test_what_validate_refuses_for_the_schema_helm_refuses_too(release: str, section: str, rules: Any) -> None:
    """The error fixture's overrides, merged over a real plan's values: helm fails on the same
    keys `qhub validate` names, so the offline check is the chart's, not an imitation."""
    overrides = _raw_overrides(NOT_IN_CHART, section)
    problems = override_problems(rules, overrides)
    assert problems
    with pytest.raises(HelmError) as refused:
        _render("stack-staging", release, overrides)
    for path, _ in problems:
        assert str(path[-1]) in str(refused.value), (path, str(refused.value)[-1500:])


def test_valid_overrides_pass_both() -> None:
    config = load_file(plan_sources()[FIXTURE]).config
    assert override_problems(JUPYTERHUB, config.jupyterhub.overrides) == []
    assert override_problems(DASK_GATEWAY, config.dask_gateway.overrides) == []
    assert _render("stack-staging", "jupyterhub", config.jupyterhub.overrides)


def test_owned_keys_and_secrets_are_refused_at_their_paths() -> None:
    problems = dict(override_problems(JUPYTERHUB, {
        "hub": {"extraConfig": {"x.py": "pass"}, "config": {"Auth0OAuthenticator": {"scope": ["x"]},
                                                           "JupyterHub": {"authenticator_class": "dummy"}},
                "extraFiles": {"mine": {"mountPath": "/usr/local/etc/jupyterhub/jupyterhub_config.d/99.py", "stringData": "x"},
                               "theirs": {"mountPath": "/srv/templates/page.html", "stringData": "<p/>"}}},
        "proxy": {"secretToken": "0123"},
        "singleuser": {"extraEnv": {"MY_PASSWORD": "hunter2", "MY_SETTING": "on"}, "storage": {"capacity": "1Gi"}},
    }))
    assert set(problems) == {
        ("hub", "extraConfig"), ("hub", "config", "Auth0OAuthenticator"), ("hub", "config", "JupyterHub", "authenticator_class"),
        ("hub", "extraFiles", "mine", "mountPath"), ("proxy", "secretToken"),
        ("singleuser", "extraEnv", "MY_PASSWORD"), ("singleuser", "storage"),
    }
    dask = dict(override_problems(DASK_GATEWAY, {"gateway": {"auth": {"jupyterhub": {"apiToken": "x"}}, "extraConfig": {"a": "b"}}}))
    assert set(dask) == {("gateway", "auth"), ("gateway", "extraConfig")}


def test_every_owned_key_is_listed_in_the_readme() -> None:
    section = (ROOT / "README.md").read_text().split("### Chart overrides", 1)[1].split("\n## ", 1)[0]
    for rules in (JUPYTERHUB, DASK_GATEWAY):
        for owned in rules.owned:
            assert f"`{owned.dotted}`" in section, owned.dotted


def test_validate_loads_the_schemas_only_for_files_with_overrides() -> None:
    """`qhub validate` stays fast: no Pulumi ever, jsonschema and the schemas only when needed."""
    code = (
        "import sys; from qhub.cli.main import main\n"
        "code = main(['validate', '--no-cache', '--config', sys.argv[1]])\n"
        "print(code, 'jsonschema' in sys.modules, any(m.startswith('pulumi') for m in sys.modules))\n"
    )
    for path, uses_schema in ((FIXTURES / "configs" / "gcp.happy.yaml", False),
                              (FIXTURES / "configs" / "gcp.happy.warm-overrides.yaml", True)):
        done = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, text=True, check=True)
        assert done.stdout.split()[-3:] == ["0", str(uses_schema), "False"], (path.name, done.stdout, done.stderr)


# -- the overrides at work: the real hub and gateway of the fixture ------------------------


def test_the_hub_with_overrides_logs_in_and_spawns_every_user() -> None:
    run = hub_run(FIXTURE)
    config = run.config
    for user in config.security.users:
        assert run.report["logins"][user]["logged_in"], user
        assert run.spawns(user)
        for profile in run.spawns(user):
            pod = run.pod(user, profile)
            # singleuser.extraLabels and extraEnv of the overrides, beside QHub's own.
            assert pod["metadata"]["labels"]["lab.example.org/cost-center"] == "research"
            (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
            env = {e["name"]: e.get("value") for e in notebook["env"]}
            assert env["LAB_SUPPORT"] == "https://lab.example.org/help"
            assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    # hub.resources of the overrides on the hub the chart rendered; QHub's env and files kept.
    hub = run.object("Deployment", "hub", config.namespace)["spec"]["template"]["spec"]
    (container,) = [c for c in hub["containers"] if c["name"] == "hub"]
    assert container["resources"] == config.jupyterhub.overrides["hub"]["resources"]
    assert {"QHUB_HUB_DATA", "OAUTH_CLIENT_SECRET"} <= {e["name"] for e in container["env"]}


def test_the_gateway_with_overrides_runs_them(gateway_runs: GatewayRuns) -> None:
    gateway = gateway_runs[FIXTURE]
    config = load_file(plan_sources()[FIXTURE]).config
    assert gateway.gateway["log_level"] == config.dask_gateway.overrides["gateway"]["loglevel"]
    assert gateway.gateway["authenticator"] == "dask_gateway_server.auth.JupyterHubAuthenticator"
    (api,) = [o for o in gateway.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "api-dask-gateway"]
    assert api["spec"]["template"]["spec"]["containers"][0]["resources"] == config.dask_gateway.overrides["gateway"]["resources"]
    # The override's pod annotations, beside QHub's token checksum (which rolls the gateway).
    annotations = api["spec"]["template"]["metadata"]["annotations"]
    assert annotations["lab.example.org/team"] == "research" and "qhub.dev/secrets-hmac" in annotations
    controller = [o for o in gateway.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "controller-dask-gateway"]
    assert re.search(r"completed_cluster_max_age = 3600\b", controller[0]["data"]["dask_gateway_config.py"])
