"""Reading YAML files: a QHub file, and a stack's Pulumi.<stack>.yaml. Needs PyYAML only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qhub.config.errors import ConfigError, Issue

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML that refuses a key given twice (PyYAML would keep the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            # Scalar keys are compared as written; that is enough to catch a repeated key
            # without constructing every key twice (10,000 users must load fast).
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in this mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def read_text(path: Path) -> str:
    """The text of `path`; a missing or unreadable file is a ConfigError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [Issue("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [Issue("", f"cannot be read: {error}")]) from None


def read_document(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`; errors say the line and column."""
    return parse_document(read_text(path), str(path))


def parse_document(text: str, source: str) -> dict[str, Any]:
    """The YAML mapping in `text` (read from `source`); errors say the line and column."""
    try:
        document = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ConfigError(source, [Issue("", f"YAML syntax error at {where}{problem}")]) from None
    except yaml.YAMLError as error:
        raise ConfigError(source, [Issue("", f"YAML syntax error: {error}")]) from None
    if document is None:
        raise ConfigError(source, [Issue("", "the file is empty; a QHub file is a mapping with project_name, provider, domain, security, ...")])
    if not isinstance(document, dict):
        raise ConfigError(source, [Issue("", f"the file holds a {type(document).__name__}, not a mapping of keys to values")])
    return document


def stack_config_file(stack: str, project_dir: Path) -> Path:
    """The QHub file a stack points at through `qhub:configFile` in Pulumi.<stack>.yaml."""
    settings = project_dir / f"Pulumi.{stack}.yaml"
    if not settings.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(str(settings), [Issue("", f"no such stack; stacks here: {', '.join(known) or 'none'}")])
    document = read_document(settings)
    config = document.get("config") or {}
    name = config.get("qhub:configFile") if isinstance(config, dict) else None
    if not isinstance(name, str) or not name:
        raise ConfigError(str(settings), [Issue("config.qhub:configFile", "missing; set it to the stack's QHub file, e.g. stacks/staging.yaml")])
    return project_dir / name


def stack_settings(stack: str, project_dir: Path) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<stack>.yaml (secrets still encrypted)."""
    document = read_document(project_dir / f"Pulumi.{stack}.yaml")
    config = document.get("config") or {}
    return config if isinstance(config, dict) else {}
