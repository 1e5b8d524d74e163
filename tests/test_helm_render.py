"""Every Helm release of every plan renders with the real helm from the chart source at the
pinned version (tests/support/helm.py): a template error, or values the chart's own schema
refuses, fails here, as it would fail `pulumi up`."""

from __future__ import annotations

import pytest

from qhub import versions
from qhub.config import load_file
from tests.conftest import all_plans, plan_sources
from tests.support.helm import UNRENDERED_CHARTS, HelmError, chart_source, releases, render, render_plan, stack_kubernetes_version

PLANS = all_plans()
SOURCES = plan_sources()


@pytest.mark.parametrize("label", list(PLANS))
def test_every_release_renders(label: str) -> None:
    plan = PLANS[label]()
    rendered = render_plan(plan, stack_kubernetes_version(load_file(SOURCES[label]).config))
    assert set(rendered) == {r.inputs["name"] for r in releases(plan)}
    for name, objects in rendered.items():
        assert objects, f"release {name} rendered no objects"


def test_every_pinned_chart_has_its_source() -> None:
    """The charts the program installs are the ones the tests render, but the two exporters of
    monitoring, whose sources the shared folder lacks (tests/support/helm.py, UNRENDERED_CHARTS)."""
    pinned = [value for value in vars(versions).values() if isinstance(value, versions.Chart)]
    for chart in pinned:
        if chart.name in UNRENDERED_CHARTS:
            with pytest.raises(HelmError, match="no chart source"):
                chart_source(chart.name, chart.version)
            continue
        assert (chart_source(chart.name, chart.version) / "Chart.yaml").read_text().count(f"version: {chart.version}")
    assert UNRENDERED_CHARTS <= {chart.name for chart in pinned}


def test_helm_refuses_values_outside_the_chart_schema() -> None:
    """The renderer is strict: values the chart's values.schema.json refuses are an error."""
    with pytest.raises(HelmError, match="schema"):
        render("jupyterhub", versions.JUPYTERHUB_CHART.version, "jupyterhub", "dev",
               {"hub": {"no-such-option": True}}, versions.DEFAULT_KUBERNETES_VERSION)
