"""Random edits of every fixture and compat config: validation raises nothing but ConfigError,
every issue names a key path and reads as the YAML does, and edited files it accepts plan.

The default run is small and reproducible (derandomized, no example database). The long run
tries far more edits, with a fresh seed each time unless one is given:

    .venv/bin/python -m pytest -q -m fuzz tests/test_config_fuzz.py
    .venv/bin/python -m pytest -q -m fuzz tests/test_config_fuzz.py --hypothesis-seed=1234

A failure prints the smallest edit that breaks validation; make it a fixture or a unit test.
"""

from __future__ import annotations

import copy
import datetime
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from qhub.config import ConfigError, QHubConfig
from qhub.config import issues as issue_formatting
from qhub.config.files import parse_document
from qhub.config.load import LoadedConfig, load_document
from qhub.offline.engine import plan_program
from tests.conftest import COMPAT_CONFIGS, FIXTURES, ROOT

HUGE = "x" * 5000


def _documents() -> dict[str, dict[str, Any]]:
    """Every fixture, compat config and stack file that holds a YAML mapping, valid or not, by
    file name."""
    found = {}
    for path in sorted((FIXTURES / "configs").glob("*.yaml")) + list(COMPAT_CONFIGS) + sorted((ROOT / "stacks").glob("*.yaml")):
        try:
            found[path.name] = parse_document(path.read_text(), path.name)
        except ConfigError:  # the fixtures of broken YAML, an empty file, a list
            continue
    return found


DOCUMENTS = _documents()

# Values a careless or hurried edit leaves behind.
JUNK = st.one_of(
    st.sampled_from([
        None, "", HUGE, 10**30, 16**5000, -1, -(10**9), 0, True, 1.5, float("inf"), float("nan"),
        [], {}, [1, "a"], {"k": None}, "ünïcødé ✓ 中文", "\u202e\x1b[31mred\x00", "../../etc/passwd",
        "/tmp/x", "C:\\Windows\\x", "~/x", "a: b", "{", "1.35", "true", "a" * 61,
        datetime.date(2020, 1, 31), datetime.datetime(2020, 1, 31, 12, 0),
    ]),
    st.text(max_size=12),
    st.integers(min_value=-5, max_value=2000),
    st.floats(allow_nan=True, allow_infinity=True),
)
# What a list item becomes when it is replaced by a mapping.
MAPPINGS = st.one_of(
    st.sampled_from([{"pipx": ["requests"]}, {"k": "v"}, {}, {"pip": "x"}, {"pip": [1]}, {"pip": ["a"], "x": 1}]),
    st.dictionaries(st.text(max_size=6), JUNK, max_size=2),
)
NEW_KEYS = st.one_of(st.sampled_from(["copy", "extra", "aws", "", "1", "type", "a b", "x.y"]), st.text(max_size=8))


class _Dumper(yaml.SafeDumper):
    """Writes the edited document as YAML; integers too long for decimal text (Python refuses
    more than 4,300 digits) as hexadecimal, which YAML reads back as the same integer."""

    def represent_int(self, data: int) -> yaml.Node:
        text = hex(data) if data.bit_length() > 4096 else str(data)
        return self.represent_scalar("tag:yaml.org,2002:int", text)


_Dumper.add_representer(int, _Dumper.represent_int)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in a document, the document itself excluded."""
    found = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found.append(prefix + (key,))
        found.extend(_paths(child, prefix + (key,)))
    return found


def _parent(document: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    return node


def _edit(data: st.DataObject, document: dict[str, Any]) -> str:
    """One random edit of `document`, in place; returns what it did, for the failure report."""
    path = data.draw(st.sampled_from(_paths(document)), label="path")
    parent, key = _parent(document, path), path[-1]
    kinds = ["replace"] + (["delete", "duplicate"] if isinstance(parent, dict) else ["mapping"])
    kind = data.draw(st.sampled_from(kinds), label="edit")
    if kind == "replace":
        parent[key] = copy.deepcopy(data.draw(JUNK, label="value"))  # later edits may change it
    elif kind == "delete":
        del parent[key]
    elif kind == "duplicate":
        parent[data.draw(NEW_KEYS, label="new key")] = copy.deepcopy(parent[key])
    else:
        parent[key] = copy.deepcopy(data.draw(MAPPINGS, label="mapping"))
    return f"{kind} {path}"


def _model_class_names() -> set[str]:
    """Names of the config model's classes: pydantic puts them in its locations; no issue may."""
    names: set[str] = set()
    pending: list[type[BaseModel]] = [QHubConfig]
    while pending:
        model = pending.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for field in model.model_fields.values():
            pending.extend(t for t in _types_in(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel))
    brands = {"DigitalOcean", "GitHub", "QHub"}  # class names that are also the words messages use
    return {name for name in names if len(re.findall(r"[A-Z]", name)) >= 2 and name not in brands}


def _types_in(annotation: Any) -> list[Any]:
    from typing import get_args

    return [annotation, *[t for arg in get_args(annotation) for t in _types_in(arg)]]


CLASS_NAMES = _model_class_names()
TOP_LEVEL_KEYS = set(QHubConfig.model_fields)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_issue(issue: Any, document: dict[str, Any]) -> None:
    text = str(issue)
    assert issue.path, f"no key path: {text}"
    top = re.match(r"^[^.\[]*", issue.path).group()  # type: ignore[union-attr]
    assert issue.path.startswith("[") or top in TOP_LEVEL_KEYS or top in document, f"not a key path: {text}"
    assert "[key]" not in issue.path and not re.search(r"\.(str|int|float|function-\w+)\b", issue.path), text
    assert not [name for name in CLASS_NAMES if re.search(rf"\b{name}\b", text)], f"names a Python class: {text}"
    assert not _CONTROL.search(text), f"a raw control character: {text!r}"
    assert "x" * 61 not in text and len(text) < 1200, f"echoes a huge value: {text[:200]}"


def _formatting_must_not_fail(item: dict[str, Any]) -> None:
    raise AssertionError(f"issues.py could not format {item!r}")


def _validate(text: str, name: str, document: dict[str, Any]) -> LoadedConfig | None:
    """Validate an edited file as `qhub validate` does: the loaded config when it is accepted,
    None when it is refused, having checked every issue either way."""
    unraisable: list[Any] = []  # what Python would print as "Exception ignored in ...": a traceback
    with mock.patch.object(issue_formatting, "_formatting_failed", _formatting_must_not_fail), \
            mock.patch.object(sys, "unraisablehook", unraisable.append):
        try:
            loaded: LoadedConfig | None = load_document(text, parse_document(text, name), name)
        except ConfigError as error:  # any other exception fails the test
            assert error.issues, name
            loaded = None
            if not any(issue.path == "" and "YAML" in issue.message for issue in error.issues):
                for issue in error.issues:
                    _check_issue(issue, document)
    assert not unraisable, [u.exc_value for u in unraisable]
    for warning in loaded.warnings if loaded else []:
        _check_issue(warning, document)
    return loaded


def _random_edits(max_examples: int, plan_sample: int, tmp_path: Path, **extra: Any) -> Callable[[], list[str]]:
    """The property, with a budget of examples and of accepted files to plan; running it
    returns the names of the files whose edited versions were planned."""
    planned: list[str] = []

    @settings(max_examples=max_examples, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], **extra)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(DOCUMENTS)), label="file")
        document = copy.deepcopy(DOCUMENTS[name])
        for _ in range(data.draw(st.integers(1, 3), label="edits")):
            if _paths(document):
                _edit(data, document)
        # Through the YAML text, as `qhub validate` reads it, so the loader is fuzzed too.
        text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
        loaded = _validate(text, name, document)
        if loaded is not None and len(planned) < plan_sample and document != DOCUMENTS[name]:
            path = tmp_path / f"edited-{len(planned)}-{name}"
            path.write_text(text)
            plan = plan_program(path, "dev", loaded.config.provider.value)
            assert plan.resources, name
            planned.append(name)

    def run() -> list[str]:
        check()
        return planned

    return run


def test_random_edits_fail_only_with_config_errors(tmp_path: Path) -> None:
    """Default run: 200 edited files (about 2 s), and plans of 2 accepted ones (about 2 s)."""
    planned = _random_edits(max_examples=200, plan_sample=2, tmp_path=tmp_path, derandomize=True)()
    assert len(planned) == 2


@pytest.mark.fuzz
def test_random_edits_long_run(tmp_path: Path) -> None:
    """Long run (-m fuzz): 20,000 edited files and 25 plans; a new seed each run, unless given."""
    assert len(_random_edits(max_examples=20_000, plan_sample=25, tmp_path=tmp_path)()) == 25


def test_the_edits_reach_every_file() -> None:
    names = set(DOCUMENTS)
    assert {p.name for p in COMPAT_CONFIGS} <= names
    assert any(".happy." in n for n in names) and any(".error." in n for n in names)
    assert {"staging.yaml", "prod.yaml"} <= names
