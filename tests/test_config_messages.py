"""What validation says about bad input: one line per problem, at the exact key, in the words of
the YAML (no Python class names), with bad values quoted short and escaped; and the inputs that
used to crash the loader or the formatter."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from qhub.config import ConfigError, QHubConfig, parse_config
from qhub.config import issues as issue_formatting
from qhub.config.base import Model
from qhub.config.environments import DEPENDENCY_FORMS
from qhub.config.files import parse_document
from qhub.config.issues import issues_from
from tests.conftest import ROOT

CONFIGS = Path(__file__).parent / "fixtures" / "configs"


def _document(name: str) -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((CONFIGS / name).read_text()))


def _issues(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(document)
    return [str(issue) for issue in raised.value.issues]


def _only_issue(document: dict[str, Any]) -> str:
    [issue] = _issues(document)
    return issue


# -- 1 and 2: conda dependencies --------------------------------------------------------------

DEPENDENCIES = "environments['environment-default.yaml'].dependencies"


@pytest.mark.parametrize(("entry", "message"), [
    ({"pipx": ["requests"]}, "`pipx:` is not a kind of dependency; expected " + DEPENDENCY_FORMS),
    ({"channel": "conda-forge"}, "`channel:` is not a kind of dependency; expected " + DEPENDENCY_FORMS),
    ({"pip": "requests"}, "`pip:` takes a list of packages, like `pip: [requests, rich==15.0.0]`; got 'requests'"),
    ({"pip": [1, 2]}, "`pip:` takes a list of packages"),
    ({"pip": ["a"], "conda": ["b"]}, "{'pip': ['a'], 'conda': ['b']} is not a dependency; expected " + DEPENDENCY_FORMS),
    (5, "5 is not a dependency; expected " + DEPENDENCY_FORMS),
    (None, "None is not a dependency; expected " + DEPENDENCY_FORMS),
    ([], "[] is not a dependency; expected " + DEPENDENCY_FORMS),
])
def test_a_bad_dependency_is_one_issue_at_its_index_in_the_users_words(entry: object, message: str) -> None:
    document = _document("aws.happy.yaml")
    document["environments"]["environment-default.yaml"]["dependencies"].insert(1, entry)
    issue = _only_issue(document)
    assert issue.startswith(f"{DEPENDENCIES}[1]: {message}"), issue
    assert "PipDependencies" not in issue and ".str" not in issue


def test_good_dependencies_are_unchanged() -> None:
    environment = parse_config(_document("aws.happy.yaml")).config.environments["environment-default.yaml"]
    assert environment.dependencies[:2] == ["python=3.12", "ipykernel"]
    assert environment.dependencies[2].pip == ["rich==15.0.0"]  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_cli_reports_a_mapping_dependency_without_a_traceback(command: str) -> None:
    path = CONFIGS / "aws.error.dependency-mapping.yaml"
    result = subprocess.run([sys.executable, "-m", "qhub", command, "--config", str(path)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    assert f"{DEPENDENCIES}[1]: `pipx:` is not a kind of dependency" in result.stderr


class _Branch(Model):
    size: int


class _WithUnion(BaseModel):
    value: list[int | _Branch]


def test_any_untagged_union_is_reported_once_with_its_forms() -> None:
    """Whatever union a model grows, its branches' errors read as one issue."""
    with pytest.raises(ValidationError) as raised:
        _WithUnion.model_validate({"value": [1, {"size": "x", "colour": 1}]})
    [issue] = issues_from(raised.value, _WithUnion)
    assert str(issue) == "value[1]: {'size': 'x', 'colour': 1} is not allowed here; expected a whole number or a mapping with the keys size"


def test_formatting_never_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should reading an error ever go wrong, the issue still names the key path."""
    def broken(*_: object) -> object:
        raise KeyError("type")

    monkeypatch.setattr(issue_formatting, "_issues_of", broken)
    document = _document("aws.happy.yaml")
    document["amazon_web_services"]["node_groups"]["user"]["min_nodes"] = "many"
    issue = _only_issue(document)
    assert issue.startswith("amazon_web_services.node_groups.user.min_nodes: 'many': "), issue


# -- 4: each rule's issue at the exact key ----------------------------------------------------

def _set(document: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split("/")
    node: Any = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value


# (rule's validator, fixture, edits, the issue's key path, words of its message)
RULES = [
    ("_zones_in_region", "aws.happy.yaml", {"amazon_web_services/region": "us-east-2",
     "amazon_web_services/availability_zones": ["eu-west-1a", "eu-west-1b"]},
     "amazon_web_services.availability_zones", "zone(s) eu-west-1a, eu-west-1b are not in region us-east-2"),
    ("_zones_in_region", "gcp.happy.gpu.yaml", {"google_cloud_platform/availability_zones": ["europe-west4-a"]},
     "google_cloud_platform.availability_zones", "zone(s) europe-west4-a are not in region us-central1"),
    ("_zones_in_region", "gcp.happy.yaml", {"google_cloud_platform/zone": "europe-west4-a"},
     "google_cloud_platform.zone", "zone(s) europe-west4-a are not in region us-central1"),
    ("_ranges_disjoint", "gcp.happy.yaml", {"google_cloud_platform/pods_cidr": "10.10.0.0/16"},
     "google_cloud_platform.pods_cidr", "10.10.0.0/16 overlaps subnet_cidr (10.10.0.0/20)"),
    ("_gpu_needs_accelerators", "gcp.happy.yaml", {"google_cloud_platform/node_groups/user/gpu": True},
     "google_cloud_platform.node_groups.user.gpu", "gpu is true but 'e2-standard-4' has no built-in GPUs"),
    ("_sizes_make_sense", "aws.happy.yaml", {"amazon_web_services/node_groups/user/min_nodes": -1},
     "amazon_web_services.node_groups.user.min_nodes", "min_nodes is -1; it must be 0 or more"),
    ("_sizes_make_sense", "aws.happy.yaml", {"amazon_web_services/node_groups/user/max_nodes": 0},
     "amazon_web_services.node_groups.user.max_nodes", "max_nodes is 0; it must be at least 1"),
    ("_sizes_make_sense", "do.happy.yaml", {"digital_ocean/node_groups/worker/min_nodes": 9},
     "digital_ocean.node_groups.worker.max_nodes", "is below min_nodes (9)"),
    ("_gpus_are_nvidia", "aws.happy.yaml", {"amazon_web_services/node_groups/user": {"instance": "g4ad.xlarge", "gpu": True}},
     "amazon_web_services.node_groups.user.gpu", "has AMD GPUs"),
    ("_has_required_groups", "azure.happy.yaml", {"azure/node_groups": {"general": {"instance": "Standard_D4s_v5"}}},
     "azure.node_groups.user", "node group missing; every cluster needs general, user and worker"),
    ("_existing_needs_secret", "aws.happy.yaml", {"certificate": {"type": "existing"}},
     "certificate.secret_name", "required when type is existing"),
    ("_client_needs_tenant", "aws.happy.yaml", {"security/authentication": {"type": "Auth0", "config": {"client_id": "abc"}}},
     "security.authentication.config.auth0_subdomain", "missing; an existing Auth0 client (client_id) needs its tenant"),
    ("_type_is_text", "aws.happy.yaml", {"security/authentication/type": 7},
     "security.authentication.type", "7 is not a login type; allowed: 'GitHub', 'Auth0', 'password'"),
    ("_ids_and_memberships", "aws.happy.yaml", {"security/users/bob/uid": 10000001},
     "security.users.bob.uid", "10000001 is already the uid of alice"),
    ("_ids_and_memberships", "aws.happy.yaml", {"security/users/bob/secondary_groups": ["analysts", "physics"]},
     "security.users.bob.secondary_groups[1]", "group 'physics' is not defined"),
    ("_one_default", "aws.happy.yaml", {"profiles/jupyterlab/1/default": True},
     "profiles.jupyterlab[1].default", "2 profiles are marked default ('Small', 'Analysts'); at most one may be"),
    ("_one_default", "aws.happy.yaml", {"profiles/jupyterlab/1/display_name": "Small"},
     "profiles.jupyterlab[1].display_name", "'Small' is already the name of jupyterlab[0]"),
    ("_within_limits", "aws.happy.yaml", {"profiles/dask_worker/Small Worker/worker_cores": 2},
     "profiles.dask_worker['Small Worker'].worker_cores", "2 exceeds worker_cores_limit 1"),
    ("_profiles_name_known_people", "aws.happy.yaml", {"profiles/jupyterlab/1/users": ["alice", "carol"]},
     "profiles.jupyterlab[1].users[1]", "'carol' (profile 'Analysts') is not in security.users"),
    ("_profiles_name_known_people", "aws.happy.yaml", {"profiles/jupyterlab/0/gpu": 1},
     "profiles.jupyterlab[0].gpu", "profile 'Small' asks for 1 GPU(s) but no node group has GPUs"),
    ("_profiles_name_known_people", "aws.happy.yaml",
     {"profiles/jupyterlab/0/kubespawner_override/extra_resource_limits": {"nvidia.com/gpu": 2}},
     "profiles.jupyterlab[0].kubespawner_override.extra_resource_limits['nvidia.com/gpu']", "asks for 2 GPU(s)"),
    ("_profiles_name_known_people", "aws.happy.yaml", {"profiles/dask_worker/Small Worker/worker_gpus": 1},
     "profiles.dask_worker['Small Worker'].worker_gpus", "asks for 1 GPU(s) per worker"),
    ("_known_spawner_options", "aws.happy.yaml", {"profiles/jupyterlab/0/kubespawner_override/uid": 0},
     "profiles.jupyterlab[0].kubespawner_override.uid", "set from security.users and security.groups"),
]


@pytest.mark.parametrize(("rule", "fixture", "edits", "path", "words"), RULES, ids=[f"{r[0]}-{r[3]}" for r in RULES])
def test_each_rule_names_the_exact_key(rule: str, fixture: str, edits: dict[str, object], path: str, words: str) -> None:
    document = _document(fixture)
    for where, value in edits.items():
        _set(document, where, value)
    issues = _issues(document)
    assert any(issue.startswith(f"{path}: ") and words in issue for issue in issues), issues


def _all_models() -> list[type[BaseModel]]:
    """Every section of the config model."""
    import qhub.config.model  # noqa: F401  (imports every section)

    found: list[type[BaseModel]] = []
    pending: list[type] = [Model]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.startswith("qhub.config") and sub not in found:
                found.append(sub)
            pending.append(sub)
    return found


def _is_one_value(annotation: Any) -> bool:
    from typing import get_args

    args = [a for a in get_args(annotation) if a is not type(None)]
    return annotation in (str, int, float, bool) or (len(args) == 1 and args[0] in (str, int, float, bool))


def _rules_over_several_values() -> dict[str, Any]:
    """Validators that see more than one value: model validators, and field validators of a
    list, a mapping or a block. By `Section._name`."""
    rules: dict[str, Any] = {}
    for model in _all_models():
        decorators = model.__pydantic_decorators__
        for name, decorator in decorators.model_validators.items():
            rules[f"{model.__name__}.{name}"] = decorator.func
        for name, decorator in decorators.field_validators.items():
            if not all(_is_one_value(model.model_fields[f].annotation) for f in decorator.info.fields):
                rules[f"{model.__name__}.{name}"] = decorator.func
    return rules


# A rule about the block itself, not about a key inside it: the block's key is the exact key.
ABOUT_THE_BLOCK = {"QHubConfig._block_matches_provider"}


def test_rules_over_several_values_report_at_their_keys() -> None:
    """Such a rule names the key inside what it checks (rules_error), not the list or block it
    was given (rule_error): so a new one cannot bring back `amazon_web_services: zone(s) ...`."""
    import inspect

    rules = _rules_over_several_values()
    assert {"AmazonWebServices._zones_in_region", "NodeGroup._sizes_make_sense", "Profiles._one_default"} <= set(rules)
    offenders = [name for name, func in rules.items()
                 if name not in ABOUT_THE_BLOCK and "rule_error(" in inspect.getsource(getattr(func, "__func__", func))]
    assert not offenders, f"report these with rules_error([((key, ...), message)]): {offenders}"


# -- 5: bad values quoted short and escaped ---------------------------------------------------

@pytest.mark.parametrize(("where", "path"), [
    ("amazon_web_services/node_groups/user/instance", "amazon_web_services.node_groups.user.instance"),
    ("profiles/dask_worker/Small Worker/worker_memory", "profiles.dask_worker['Small Worker'].worker_memory"),
    ("domain", "domain"),
    ("amazon_web_services/region", "amazon_web_services.region"),
    ("project_name", "project_name"),
    ("storage/conda_store", "storage.conda_store"),
    ("profiles/jupyterlab/0/kubespawner_override/mem_limit", "profiles.jupyterlab[0].kubespawner_override.mem_limit"),
])
def test_a_huge_value_is_quoted_at_most_60_characters(where: str, path: str) -> None:
    document = _document("aws.happy.yaml")
    _set(document, where, "y" * 5000)
    issue = _only_issue(document)
    assert issue.startswith(f"{path}: "), issue
    assert "'" + "y" * 56 + "..." in issue and "y" * 61 not in issue, issue


def test_control_characters_are_never_printed_raw() -> None:
    document = _document("aws.happy.yaml")
    _set(document, "amazon_web_services/node_groups/user/instance", "m5.large\x1b[2J\r\n")
    document["security"]["users"]["eve\x07"] = {"uid": 1, "primary_group": "users"}
    issues = _issues(document)
    assert not [i for i in issues if re.search(r"[\x00-\x1f\x7f-\x9f]", i)], issues
    assert any("'m5.large\\x1b[2J\\r\\n' is not a machine type" in i for i in issues), issues
    assert any(i.startswith("security.users['eve\\x07']: key 'eve\\x07' does not match") for i in issues), issues


def test_an_enormous_integer_is_described_not_written_out() -> None:
    document = _document("aws.happy.yaml")
    _set(document, "amazon_web_services/node_groups/user/min_nodes", -(16**5000))
    _set(document, "security/authentication/type", 16**5000)
    issues = _issues(document)
    assert "amazon_web_services.node_groups.user.min_nodes: min_nodes is <a number of about 6020 digits>; it must be 0 or more" in issues
    assert "security.authentication.type: <a number of about 6020 digits> is not a login type; allowed: 'GitHub', 'Auth0', 'password'" in issues


def test_a_bad_mapping_key_is_named_as_the_key() -> None:
    document = _document("aws.happy.yaml")
    document["environments"]["my env.yaml"] = document["environments"].pop("environment-default.yaml")
    issue = _only_issue(document)
    assert issue.startswith("environments['my env.yaml']: key 'my env.yaml' does not match the required form"), issue
    assert "[key]" not in issue


# -- Other inputs the fuzzer found crashing ---------------------------------------------------

@pytest.mark.parametrize(("limits", "path", "words"), [
    (["nvidia.com/gpu"], "extra_resource_limits", "expected a mapping of resource names to limits"),
    ({"nvidia.com/gpu": "two"}, "extra_resource_limits['nvidia.com/gpu']", "'two' is not a number of GPUs"),
    ({"nvidia.com/gpu": 1.5}, "extra_resource_limits['nvidia.com/gpu']", "1.5 is not a number of GPUs"),
])
def test_extra_resource_limits_that_used_to_crash(limits: object, path: str, words: str) -> None:
    document = _document("aws.happy.gpu.yaml")
    document["profiles"]["jupyterlab"][0]["kubespawner_override"]["extra_resource_limits"] = limits
    issue = _only_issue(document)
    assert issue.startswith(f"profiles.jupyterlab[0].kubespawner_override.{path}: {words}"), issue


def test_a_quoted_gpu_count_is_still_a_count() -> None:
    document = _document("aws.happy.gpu.yaml")
    document["profiles"]["jupyterlab"][0]["kubespawner_override"]["extra_resource_limits"] = {"nvidia.com/gpu": "1"}
    assert parse_config(document).config.profiles.jupyterlab[0].gpus == 1


@pytest.mark.parametrize(("option", "value", "words"), [
    ("cpu_limit", 16**40, "is too large; numbers here must fit in 64 bits"),
    ("cpu_limit", float("inf"), "inf is not a finite number"),
    ("cpu_limit", "2", "'2' is not a number of cores"),
    ("mem_limit", "4Gi", "'4Gi' is not an amount of memory KubeSpawner reads"),
    ("mem_limit", "4g", "'4g' is not an amount of memory KubeSpawner reads"),
    ("extra_labels", {"since": __import__("datetime").date(2020, 1, 31)}, "is not text, a number, true/false"),
    ("extra_labels", {1: "one"}, "keys here must be text, got 1"),
])
def test_spawner_options_the_hub_could_not_read_are_refused(option: str, value: object, words: str) -> None:
    """These reached the plan (which failed writing the hub's JSON) or every spawn."""
    document = _document("aws.happy.yaml")
    document["profiles"]["jupyterlab"][1]["kubespawner_override"][option] = value
    issue = _only_issue(document)
    assert issue.startswith(f"profiles.jupyterlab[1].kubespawner_override.{option}") and words in issue, issue


def test_spawner_memory_and_cpu_as_the_seed_writes_them_are_accepted() -> None:
    document = _document("aws.happy.yaml")
    document["profiles"]["jupyterlab"][1]["kubespawner_override"].update(mem_limit="1.5G", mem_guarantee=2**30, cpu_limit=0.5)
    assert parse_config(document).config.profiles.jupyterlab[1].kubespawner_override["mem_limit"] == "1.5G"


@pytest.mark.parametrize(("key", "value"), [
    ("worker_cores_limit", float("inf")), ("worker_cores", float("nan")), ("worker_memory", 16**5000),
], ids=["cores-limit-inf", "cores-nan", "memory-6020-digits"])
def test_dask_worker_sizes_must_be_finite(key: str, value: object) -> None:
    document = _document("aws.happy.yaml")
    document["profiles"]["dask_worker"]["Small Worker"][key] = value
    issue = _only_issue(document)
    assert issue.startswith(f"profiles.dask_worker['Small Worker'].{key}: "), issue


@pytest.mark.parametrize(("where", "value", "bound"), [
    ("amazon_web_services/node_groups/user/max_nodes", 10**30, "1000"),
    ("jupyterhub", {"max_server_age_hours": 10**9}, "8760"),
    ("dask_gateway", {"cluster_max_workers": 10**12}, "100000"),
])
def test_counts_have_upper_bounds(where: str, value: object, bound: str) -> None:
    document = _document("aws.happy.yaml")
    _set(document, where, value)
    assert f"input should be less than or equal to {bound}" in _only_issue(document)


@pytest.mark.parametrize(("text", "words"), [
    ("a: " + "1" * 5000, "line 1, column 4: '1111"),
    ("a: 2001-13-45", "line 1, column 4: '2001-13-45' cannot be read as timestamp (month must be in 1..12); quote it"),
    ("a: !!float abc", "'abc' cannot be read as float"),
    ("a: !!int 1.5", "'1.5' cannot be read as int"),
    ("a: !!timestamp x", "'x' cannot be read as timestamp"),
    ("a: &x [*x]", "line 1, column 4: an alias refers to the list or mapping it is inside of"),
    ("a: " + "[" * 3000 + "]" * 3000, "nested too deeply"),
])
def test_yaml_the_constructors_choke_on_is_a_config_error(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_document(text, "x.yaml")
    [issue] = raised.value.issues
    assert words in issue.message and len(issue.message) < 300, issue.message


def test_aliases_are_built_once_and_still_read_as_pyyaml_reads_them() -> None:
    text = "a: &a [1, {b: 2}]\nb: [*a, *a]\nc: {<<: &m {x: 1}, y: *m}\n"
    assert parse_document(text, "x.yaml") == yaml.safe_load(text)
    # Each alias doubling the one before would be 2**40 lists if built anew each time.
    text = "l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]\n" for i in range(1, 41))
    assert len(parse_document(text, "x.yaml")) == 41
