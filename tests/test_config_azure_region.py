"""Azure regions as QHub wrote them: display names are accepted and become programmatic names
everywhere the program uses the region; names that are neither are refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from qhub.config import ConfigError, load_file, parse_config
from qhub.config.providers.azure import AZURE_REGIONS, programmatic_region
from tests.conftest import plan_config

CONFIGS = Path(__file__).parent / "fixtures" / "configs"
HAPPY = CONFIGS / "azure.happy.yaml"
DISPLAY_NAME = CONFIGS / "azure.compat.region-display-name.yaml"


def _with_region(region: object) -> dict[str, object]:
    document = copy.deepcopy(yaml.safe_load(HAPPY.read_text()))
    document["azure"]["region"] = region
    return document


def test_table_maps_display_names_to_programmatic_names() -> None:
    # Azure's programmatic names are its display names, lowercased, without spaces.
    for display, programmatic in AZURE_REGIONS.items():
        assert programmatic == display.lower().replace(" ", ""), display
    for display, programmatic in [("East US", "eastus"), ("West Europe", "westeurope"),
                                  ("Central US", "centralus"), ("UK South", "uksouth")]:
        assert AZURE_REGIONS[display] == programmatic


@pytest.mark.parametrize(("written", "region"), [
    ("West Europe", "westeurope"), ("west europe", "westeurope"), ("  WEST   Europe ", "westeurope"),
    ("WestEurope", "westeurope"), ("westeurope", "westeurope"), ("Central US", "centralus"),
    ("East US 2", "eastus2"), ("australia central 2", "australiacentral2"), ("UK South", "uksouth"),
])
def test_display_names_in_any_case_and_spacing_become_programmatic(written: str, region: str) -> None:
    assert programmatic_region(written) == region
    assert parse_config(_with_region(written)).config.azure.region == region  # type: ignore[union-attr]


@pytest.mark.parametrize("region", ["Mars North", "West-Europe", "West Europa", "", "eu-west-1"])
def test_names_that_are_neither_are_refused(region: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(_with_region(region))
    [issue] = raised.value.issues
    assert issue.path == "azure.region"
    assert "is not a region of this cloud; expected one like eastus, westeurope" in issue.message
    assert "display name such as 'West Europe'" in issue.message


def test_programmatic_name_missing_from_the_table_is_a_warning_with_a_suggestion() -> None:
    loaded = parse_config(_with_region("westeurop"))
    assert loaded.config.azure.region == "westeurop"  # type: ignore[union-attr]
    [warning] = [w for w in loaded.warnings if w.path == "azure.region"]
    assert "did you mean westeurope?" in warning.message
    assert not [w for w in parse_config(_with_region("westeurope")).warnings if w.path == "azure.region"]


def test_display_name_plans_as_the_programmatic_name_everywhere(tmp_path: Path) -> None:
    """The file written with `West Europe` plans exactly as the same file written with
    `westeurope`: every location, DNS label and output carries the programmatic name."""
    assert load_file(DISPLAY_NAME).config.azure.region == "westeurope"  # type: ignore[union-attr]
    text = DISPLAY_NAME.read_text()
    assert "  region: West Europe\n" in text
    twin = tmp_path / "azure.programmatic-name.yaml"
    twin.write_text(text.replace("  region: West Europe\n", "  region: westeurope\n"))
    display, programmatic = plan_config(DISPLAY_NAME).to_json(), plan_config(twin).to_json()
    assert display["resources"] == programmatic["resources"]
    assert display["outputs"] == programmatic["outputs"]
    assert "West Europe" not in str(display)
    locations = {r["inputs"]["location"] for r in display["resources"] if "location" in r["inputs"]}
    assert locations == {"westeurope"}
    assert display["outputs"]["region"] == "westeurope"
