"""The record of the domain at every DNS service, and the static IPs it points at on GCP and Azure.

Plans one fixture per DNS service on the cloud it usually goes with: Route 53 on AWS at the zone
apex (tests/fixtures/configs/aws.happy.dns-and-extensions.yaml, which every plan-wide test also
covers), Cloud DNS on GCP, Azure DNS on Azure at the apex, DigitalOcean's DNS on DigitalOcean and
Cloudflare on an existing cluster (`<cloud>.dns.<service>.yaml`: their platform part is that of
the cloud's happy fixture, so only these tests plan them). Each plan's resources are checked
against the provider SDKs' Args classes (tests/support/conformance.py), the record's inputs
against what the service needs, and the value against the load balancer the same plan creates.
The DNS services' answers (zone look-ups) are the offline engine's mocks, the one faked boundary.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from qhub.config import load_file
from qhub.config.dns import Dns, DnsProvider, in_zone, record_name
from qhub.offline.engine import Plan, PlannedResource, plan_program
from qhub.stack import DNS_MODULES
from tests.conftest import FIXTURES, ROOT, plan_config
from tests.support.conformance import args_class, resource_problems

CONFIGS = FIXTURES / "configs"
ROUTE53 = CONFIGS / "aws.happy.dns-and-extensions.yaml"
SERVICES = {
    "route53": ROUTE53,
    "cloud-dns": CONFIGS / "gcp.dns.cloud-dns.yaml",
    "azure-dns": CONFIGS / "azure.dns.azure-dns.yaml",
    "digitalocean": CONFIGS / "do.dns.digitalocean.yaml",
    "cloudflare": CONFIGS / "existing.dns.cloudflare.yaml",
}
RECORD_TYPES = {
    "route53": "aws:route53/record:Record",
    "cloud-dns": "gcp:dns/recordSet:RecordSet",
    "azure-dns": "azure-native:dns:RecordSet",
    "digitalocean": "digitalocean:index/dnsRecord:DnsRecord",
    "cloudflare": "cloudflare:index/dnsRecord:DnsRecord",
}


def _record(plan: Plan, service: str) -> PlannedResource:
    (record,) = plan.of_type(RECORD_TYPES[service])
    return record


def _ingress_values(plan: Plan) -> dict:
    (release,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "qhub-ingress"]
    return release.inputs["values"]["controller"]["service"]


# -- the config: names in the zone, never guessed ---------------------------------------------


@pytest.mark.parametrize(("domain", "zone", "name"), [
    ("jupyter.example.org", "example.org", "jupyter"),
    ("example.org", "example.org", "@"),  # Nebari gave the apex an empty name
    ("hub.lab.example.co.uk", "example.co.uk", "hub.lab"),  # Nebari took co.uk for the zone
    ("a.b.example.org", "b.example.org", "a"),
])
def test_record_name_is_relative_to_the_configured_zone(domain: str, zone: str, name: str) -> None:
    assert in_zone(domain, zone)
    assert record_name(domain, zone) == name


def test_a_zone_is_matched_by_labels_not_by_suffix() -> None:
    assert not in_zone("jupyter.badexample.org", "example.org")
    assert not in_zone("example.org", "jupyter.example.org")


def test_nebari_dns_block_without_auto_provision_carries_over_and_creates_nothing() -> None:
    # Nebari's shape: a provider and auto_provision false; no zone, no record, dns_record stays manual.
    dns = Dns.model_validate({"provider": "cloudflare", "auto_provision": False})
    assert not dns.creates_record


def test_every_service_has_a_module_with_its_sdk_modules() -> None:
    assert set(DNS_MODULES) == set(DnsProvider)
    for module_name in DNS_MODULES.values():
        module = importlib.import_module(module_name)
        assert module.SDK_MODULES and callable(module.build), module_name


def test_validate_imports_no_dns_sdk() -> None:
    # `qhub validate` must stay fast: the DNS SDKs load only when the program plans.
    code = (
        "import sys; from qhub.cli.main import main; "
        f"code = main(['validate', '--no-cache', '--config', {str(SERVICES['cloudflare'])!r}]); "
        "loaded = sorted(m for m in sys.modules if m.startswith('pulumi')); "
        "print(loaded); sys.exit(code or (1 if loaded else 0))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the plans: one record per service, valid for its SDK -------------------------------------


@pytest.fixture(scope="module", params=list(SERVICES))
def service_plan(request: pytest.FixtureRequest) -> tuple[str, Plan]:
    return request.param, plan_config(SERVICES[request.param])


def test_plan_inputs_fit_the_sdks(service_plan: tuple[str, Plan]) -> None:
    service, plan = service_plan
    found = [f"{r.name}: {p}" for r in plan.resources if r.custom and not r.read for p in resource_problems(r.type, r.inputs)]
    assert not found, "\n".join(found[:30])


def test_record_under_its_component_with_an_explicit_provider(service_plan: tuple[str, Plan]) -> None:
    service, plan = service_plan
    (component,) = plan.of_type("qhub:dns:Record")
    record = _record(plan, service)
    assert record.parent == component.urn
    provider = next(r for r in plan.resources if record.provider and record.provider.startswith(r.urn))
    assert provider.type.startswith("pulumi:providers:") and provider.parent == component.urn
    # The DNS module's resources come from the SDK modules it lists (what `qhub plan` imports early).
    listed = importlib.import_module(DNS_MODULES[DnsProvider(service)]).SDK_MODULES
    for resource in plan.children(component):
        cls = args_class(resource.type) if resource.custom and not resource.type.startswith("pulumi:providers:") else None
        if cls is not None:
            assert cls.__module__.rsplit(".", 1)[0] in listed, resource.type


def test_dns_record_output_says_the_record_is_managed(service_plan: tuple[str, Plan]) -> None:
    service, plan = service_plan
    config = load_file(SERVICES[service]).config
    output = plan.outputs["dns_record"]
    assert output["name"] == config.domain and output["managed_by"] == service and output["zone"] == config.dns.zone


def test_route53_alias_at_the_apex_to_the_network_load_balancer() -> None:
    plan = plan_config(ROUTE53)
    record = _record(plan, "route53").inputs
    assert record["name"] == "lab.example.org" and record["type"] == "A"
    # An alias has no TTL or records of its own; it follows the load balancer, at the apex too.
    assert "ttl" not in record and "records" not in record
    (alias,) = record["aliases"]
    assert alias["name"] == plan.outputs["load_balancer_address"] and alias["evaluateTargetHealth"] is True
    assert alias["zoneId"] != record["zoneId"]  # the load balancer's zone (aws.lb), not the domain's
    assert record["allowOverwrite"] is True  # a record made by hand before is taken over
    (provider,) = [r for r in plan.of_type("pulumi:providers:aws") if r.name.endswith("-dns-aws")]
    assert provider.inputs["region"] == "eu-central-1"  # the cluster's: the load balancer's zone is regional


def test_cloud_dns_a_record_with_trailing_dot_to_the_reserved_address() -> None:
    plan = plan_config(SERVICES["cloud-dns"])
    record = _record(plan, "cloud-dns").inputs
    (address,) = plan.of_type("gcp:compute/address:Address")
    assert record["name"] == "jupyter.lab.example.org." and record["type"] == "A" and record["ttl"] == 300
    assert record["managedZone"] == "lab-example-org" and record["project"] == "lab-gcp-project"
    # The record, the Service's requested address and the reserved address are one address.
    assert record["rrdatas"] == [_ingress_values(plan)["loadBalancerIP"]] == [plan.outputs["load_balancer_address"]]
    assert address.inputs["addressType"] == "EXTERNAL" and address.inputs["region"] == "us-central1"


def test_azure_dns_apex_record_to_the_reserved_public_ip() -> None:
    plan = plan_config(SERVICES["azure-dns"])
    record = _record(plan, "azure-dns").inputs
    assert record["relativeRecordSetName"] == "@" and record["recordType"] == "A" and record["ttl"] == 300
    assert record["zoneName"] == "lab.example.org" and record["resourceGroupName"] == "dns-zones"
    assert "cnameRecord" not in record
    (public_ip,) = plan.of_type("azure-native:network:PublicIPAddress")
    assert public_ip.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert public_ip.inputs["publicIPAllocationMethod"] == "Static"
    # The cloud controller keeps the DNS label and its tags on the IP it is given.
    assert set(public_ip.ignore_changes) >= {"dnsSettings", "tags"}
    annotations = _ingress_values(plan)["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-pip-name"] == public_ip.inputs["publicIpAddressName"]
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"] == public_ip.inputs["resourceGroupName"]
    assert record["aRecords"] == [{"ipv4Address": plan.outputs["load_balancer_address"]}]


def test_azure_ingress_waits_for_the_clusters_role_on_its_public_ip() -> None:
    plan = plan_config(SERVICES["azure-dns"])
    (public_ip,) = plan.of_type("azure-native:network:PublicIPAddress")
    (access,) = [r for r in plan.of_type("azure-native:authorization:RoleAssignment") if r.name.endswith("-ingress-ip-access")]
    assert access.inputs["scope"].endswith(f"/publicIPAddresses/{public_ip.inputs['publicIpAddressName']}")
    assert access.inputs["roleDefinitionId"].endswith("/4d97b98b-1d4f-4787-a291-c67834d212e7")  # Network Contributor
    (release,) = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "qhub-ingress"]
    assert access.urn in release.dependencies
    # SSH's own load balancer keeps an address of its own: the reserved IP is the ingress Service's.
    (ssh,) = [r for r in plan.of_type("kubernetes:core/v1:Service") if r.inputs.get("metadata", {}).get("name") == "jupyterhub-ssh"]
    assert "service.beta.kubernetes.io/azure-pip-name" not in ssh.inputs["metadata"].get("annotations", {})


def test_digitalocean_a_record_named_in_the_domain() -> None:
    plan = plan_config(SERVICES["digitalocean"])
    record = _record(plan, "digitalocean").inputs
    assert record == {**record, "domain": "example.org", "name": "jupyter.lab", "type": "A", "ttl": 300}
    assert record["value"] == plan.outputs["load_balancer_address"]


def test_cloudflare_cname_not_proxied_with_the_token_from_the_stack() -> None:
    plan = plan_config(SERVICES["cloudflare"])
    record = _record(plan, "cloudflare").inputs
    assert record["name"] == "jupyter.lab.example.org" and record["type"] == "CNAME" and record["ttl"] == 300
    assert record["proxied"] is False and record["content"] == plan.outputs["load_balancer_address"]
    (provider,) = plan.of_type("pulumi:providers:cloudflare")
    assert "apiToken" not in provider.inputs  # none in the stack: CLOUDFLARE_API_TOKEN, never the QHub file
    with_token = plan_program(SERVICES["cloudflare"], "dev", "existing",
                              extra_config={"cloudflare:apiToken": {"secure": "v1:ciphertext"}})
    (provider,) = with_token.of_type("pulumi:providers:cloudflare")
    assert provider.inputs["apiToken"] == "[secret]"


# -- static IPs and the stacks without `dns` --------------------------------------------------


def test_without_dns_nothing_changes_and_the_record_stays_manual() -> None:
    plan = plan_config(CONFIGS / "existing.happy.yaml")
    assert not plan.of_type("qhub:dns:Record")
    assert set(plan.outputs["dns_record"]) == {"name", "type", "value"}


@pytest.mark.parametrize("path", [CONFIGS / "gcp.happy.yaml", CONFIGS / "azure.happy.yaml"], ids=lambda p: p.stem)
def test_gcp_and_azure_reserve_the_ingress_address_without_dns_too(path: Path) -> None:
    # The manual record, too, must survive a re-created Service.
    plan = plan_config(path)
    reserved = plan.of_type("gcp:compute/address:Address") + plan.of_type("azure-native:network:PublicIPAddress")
    assert len(reserved) == 1 and reserved[0].name.endswith("-ingress-ip")
    assert plan.outputs["dns_record"]["type"] == "A"
