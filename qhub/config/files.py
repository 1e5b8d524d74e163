"""Reading YAML files: a QHub file, and a stack's Pulumi.<stack>.yaml. Needs PyYAML only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qhub.config.errors import ConfigError, Issue, clip, printable

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


def _duplicate(key_node: yaml.Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        None, None, f"key {key_node.value!r} appears twice in this mapping", key_node.start_mark
    )


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML that refuses a key given twice (PyYAML would keep the last one silently).

    A file with 10,000 users has some 100,000 nodes, and PyYAML spends most of its time
    resolving and constructing them one Python call chain at a time. So plain scalars' tags are
    memoised (names such as `uid` repeat on every user), and strings, lists and mappings are
    built directly; every other node (ints, floats, timestamps, merge keys, ...) still goes
    through PyYAML's own constructors, so values mean exactly what they mean to PyYAML.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}
        self._built: dict[int, Any] = {}
        self._building: set[int] = set()

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            # Scalar keys are compared as written, without constructing every key twice.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise _duplicate(key_node)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def build(self, node: yaml.Node) -> Any:
        """The Python value of a composed node."""
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            # An alias names the same node again: build it once, as PyYAML shares the object,
            # so aliases of aliases cannot multiply the work, and refuse one inside itself.
            if id(node) in self._built:
                return self._built[id(node)]
            if id(node) in self._building:
                raise yaml.constructor.ConstructorError(
                    None, None, "an alias refers to the list or mapping it is inside of", node.start_mark
                )
            self._building.add(id(node))
            try:
                value = self._build_collection(node)
            finally:
                self._building.discard(id(node))
            self._built[id(node)] = value
            return value
        return self._construct(node)

    def _build_collection(self, node: yaml.SequenceNode | yaml.MappingNode) -> Any:
        tag = node.tag
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            return [self.build(item) for item in node.value]
        if tag == _MAP and isinstance(node, yaml.MappingNode) and not any(k.tag == _MERGE for k, _ in node.value):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.build(key_node)
                if isinstance(key, (list, dict)):
                    return self._construct(node)  # PyYAML reports unhashable keys
                if key in result:
                    raise _duplicate(key_node)
                result[key] = self.build(value_node)
            return result
        return self._construct(node)

    def _construct(self, node: yaml.Node) -> Any:
        """A node PyYAML's constructors build, their failures reported at the node's position.

        They raise plain Python errors for values that look like a type but are not one: an
        integer of more than 4,300 digits, a date like 2001-13-45, `!!float abc`.
        """
        try:
            return self.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError, RecursionError) as error:
            text = clip(printable(str(node.value)), 40) if isinstance(node, yaml.ScalarNode) else "this value"
            kind = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{text!r} cannot be read as {kind} ({clip(printable(str(error)), 80)}); quote it to keep it as text",
                node.start_mark,
            ) from None

    def load(self) -> Any:
        """The document of the stream, or None when it is empty."""
        try:
            node = self.get_single_node()
            return None if node is None else self.build(node)
        finally:
            self.dispose()


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
        document = _StrictLoader(text).load()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ConfigError(source, [Issue("", f"YAML syntax error at {where}{problem}")]) from None
    except yaml.YAMLError as error:
        raise ConfigError(source, [Issue("", f"YAML syntax error: {error}")]) from None
    except RecursionError:  # lists or mappings nested thousands deep
        raise ConfigError(source, [Issue("", "YAML nested too deeply to read; a QHub file is a few levels of mappings and lists")]) from None
    if document is None:
        raise ConfigError(source, [Issue("", "the file is empty; a QHub file is a mapping with project_name, provider, domain, security, ...")])
    if not isinstance(document, dict):
        raise ConfigError(source, [Issue("", f"the file holds a {type(document).__name__}, not a mapping of keys to values")])
    return document


def project_stacks(project_dir: Path) -> list[str]:
    """Stacks that have a Pulumi.<stack>.yaml in the project."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def stack_config_file(stack: str, project_dir: Path) -> Path:
    """The QHub file a stack points at through `qhub:configFile` in Pulumi.<stack>.yaml."""
    settings = project_dir / f"Pulumi.{stack}.yaml"
    if not settings.exists():
        known = project_stacks(project_dir)
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
