"""The layer boundaries of DESIGN.md, enforced on the source: which module may import what."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CLOUD_SDKS = {"pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_digitalocean", "pulumi_eks", "pulumi_cloudflare"}
QHUB = ROOT / "qhub"


def imports_of(path: Path) -> set[str]:
    """Top-level package names a module imports, anywhere in it (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules(folder: str) -> list[Path]:
    return sorted((QHUB / folder).rglob("*.py"))


def test_platform_and_values_never_import_a_cloud_sdk() -> None:
    for path in modules("platform") + modules("values"):
        assert not imports_of(path) & CLOUD_SDKS, f"{path.relative_to(ROOT)} imports a cloud SDK"


def test_values_are_pure_functions_without_pulumi() -> None:
    for path in modules("values"):
        assert not imports_of(path) & ({"pulumi", "pulumi_kubernetes"} | CLOUD_SDKS), path


def test_config_and_cli_import_no_pulumi_at_module_level() -> None:
    for path in modules("config"):
        assert not {n for n in imports_of(path) if n.startswith("pulumi")}, path


def test_each_cloud_sdk_is_imported_by_its_cloud_module_only() -> None:
    owner = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_azure_native": "azure", "pulumi_digitalocean": "digitalocean"}
    # The DNS modules are the only other place a cloud's SDK lives (its DNS service), and the only one for Cloudflare's.
    dns_owner = {"pulumi_aws": "route53", "pulumi_gcp": "cloud_dns", "pulumi_azure_native": "azure_dns",
                 "pulumi_digitalocean": "digitalocean", "pulumi_cloudflare": "cloudflare"}
    for path in QHUB.rglob("*.py"):
        if "offline" in path.parts:  # the engine's mock tables name types, they import nothing
            continue
        for sdk in imports_of(path) & set(dns_owner):
            relative = path.relative_to(QHUB).as_posix()
            assert relative.startswith(f"clouds/{owner.get(sdk)}") or relative == f"dns/{dns_owner[sdk]}.py", f"{relative} imports {sdk}"


def test_provider_dispatch_happens_in_one_place() -> None:
    """Only qhub/stack.py (and the config model's own derived facts) look at config.provider."""
    for path in QHUB.rglob("*.py"):
        relative = path.relative_to(QHUB).as_posix()
        if relative in ("stack.py",) or relative.startswith(("config/", "cli/", "offline/")):
            continue
        assert ".provider ==" not in path.read_text() and "Provider." not in path.read_text(), relative
