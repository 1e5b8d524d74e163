"""Turning pydantic's errors into Issues that name the key path, the value and what is allowed.

pydantic's locations carry its own bookkeeping: the branch of a union it tried (`str`,
`PipDependencies`, `GitHub`) and `[key]` for a bad mapping key. Those are taken out here, by
walking the model along each location, so that a path reads as the YAML does; the errors of a
union's branches become one issue.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from qhub.config.errors import Issue, clip, printable, quote

# A mapping key shown bare in a path; any other key is quoted (`profiles.dask_worker['Small Worker']`).
_BARE_KEY = re.compile(r"^[A-Za-z0-9_@+-]+$")


def key_path(loc: tuple[Any, ...]) -> str:
    """The YAML key path of a location: `environments['x.yaml'].dependencies[1]`."""
    text = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _BARE_KEY.match(part) and len(part) <= 60:
            text += ("." if text else "") + part
        else:
            text += f"[{quote(part)}]"
    return text


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional from an annotation."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        args = get_args(annotation)
        if _is_union(annotation) and type(None) in args and len(args) == 2:
            annotation = next(a for a in args if a is not type(None))
            continue
        return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: Any) -> Any:
    """The field of `model` that the YAML key `key` sets (by name or alias), or None."""
    if not isinstance(key, str):
        return None
    if key in model.model_fields:
        return model.model_fields[key]
    for field in model.model_fields.values():
        alias = field.validation_alias
        names = getattr(alias, "choices", None) or ([alias] if alias else []) + ([field.alias] if field.alias else [])
        if key in names:
            return field
    return None


def _branch_label(branch: Any) -> str:
    """How pydantic names a union branch in a location."""
    return branch.__name__ if isinstance(branch, type) else str(branch)


def _tag_values(branch: Any) -> tuple[Any, ...]:
    """The `type:` values that select a branch of a tagged union."""
    field = branch.model_fields.get("type") if _is_model(branch) else None
    annotation = field.annotation if field is not None else None
    return get_args(annotation) if get_origin(annotation) is Literal else ()


@dataclass(frozen=True)
class _Located:
    """A pydantic location read against the model."""

    loc: tuple[Any, ...]  # the YAML key path: union branches and `[key]` taken out
    holder: Any  # the annotation that holds the last key (a model, for listing its keys)
    union_at: int | None  # length of `loc` at the first untagged union, when the error is inside one
    union: Any  # that union's annotation
    bad_key: bool  # the error is about the mapping key itself, not its value


def _locate(root: type[BaseModel], raw: tuple[Any, ...]) -> _Located:
    node: Any = root
    holder: Any = root
    loc: list[Any] = []
    union_at: int | None = None
    union: Any = None
    bad_key = False
    for part in raw:
        node = _unwrap(node)
        if part == "[key]":
            bad_key = True
            continue
        if _is_union(node):
            branches = [b for b in get_args(node) if b is not type(None)]
            chosen = next((b for b in branches if part in _tag_values(_unwrap(b))), None)
            if chosen is None:  # an untagged union: `part` names the branch pydantic tried
                chosen = next((b for b in branches if _branch_label(_unwrap(b)) == part), None)
                if union_at is None:
                    union_at, union = len(loc), node
            node = chosen
            continue
        holder = node
        loc.append(part)
        if _is_model(node):
            field = _field(node, part)
            node = field.annotation if field is not None else None
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        elif get_origin(node) in (list, tuple, set, frozenset):
            args = get_args(node)
            node = args[0] if args else None
        else:
            node = None
    return _Located(tuple(loc), _unwrap(holder), union_at, union, bad_key)


def _describe_form(annotation: Any) -> str:
    """One allowed form of a value, as the person editing the YAML would say it."""
    annotation = _unwrap(annotation)
    if annotation is str:
        return "text"
    if annotation is int:
        return "a whole number"
    if annotation is float:
        return "a number"
    if annotation is bool:
        return "true or false"
    if _is_model(annotation):
        keys = ", ".join(f.alias or name for name, f in annotation.model_fields.items())
        return f"a mapping with the keys {keys}"
    if get_origin(annotation) is list:
        return "a list"
    if get_origin(annotation) is dict:
        return "a mapping"
    return "a value of another form"


def _union_issue(located: _Located, items: list[dict[str, Any]]) -> Issue:
    """The errors of every branch of an untagged union, said once: what was given, what is allowed."""
    at = located.loc[: located.union_at]
    value = next((item.get("input") for item in items if len(item["loc"]) == min(len(i["loc"]) for i in items)), None)
    forms = " or ".join(_describe_form(branch) for branch in get_args(located.union) if branch is not type(None))
    return Issue(key_path(at), f"{quote(value)} is not allowed here; expected {forms}")


def _unknown_key(located: _Located) -> str:
    model = located.holder if _is_model(located.holder) else None
    allowed = sorted((f.alias or name) for name, f in (model.model_fields.items() if model else []))
    close = difflib.get_close_matches(str(located.loc[-1]), allowed, n=1) if located.loc else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed here: {', '.join(allowed) or 'none'}"


def _message(item: dict[str, Any], located: _Located) -> str:
    """What is wrong with the value at one location, and what is allowed."""
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "qhub_rule":
        return str(ctx.get("text", item.get("msg", "")))
    if kind == "extra_forbidden":
        return _unknown_key(located)
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"type {quote(ctx.get('tag'))} is not supported; allowed: {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"`type` is missing; allowed: {ctx.get('expected_tags', 'GitHub, Auth0, password')}"
    if kind in ("enum", "literal_error"):
        return f"{quote(value)} is not allowed; allowed: {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return f"{quote(value)} does not match the required form {ctx.get('pattern')}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys to values, got {quote(value)}"
    if kind == "list_type":
        return f"expected a list, got {quote(value)}"
    if kind == "string_type":
        return f"expected text, got {quote(value)}"
    text = str(item.get("msg", "is not allowed"))
    return f"{quote(value)}: {text[:1].lower()}{text[1:]}"


def _issues_of(item: dict[str, Any], located: _Located) -> list[Issue]:
    ctx = item.get("ctx") or {}
    if item["type"] == "qhub_rule" and ctx.get("problems"):
        return [Issue(key_path(located.loc + tuple(relative)), message) for relative, message in ctx["problems"]]
    message = _message(item, located)
    if located.bad_key:
        message = f"keys here must be text, got {quote(item.get('input'))}" if item["type"] == "string_type" else f"key {message}"
    return [Issue(key_path(located.loc), message)]


def _formatting_failed(item: dict[str, Any]) -> Issue:
    """The issue of an error this module could not read: still its path and pydantic's words.

    Reporting must never fail; tests replace this function to prove it is never needed.
    """
    loc = tuple(part for part in item.get("loc", ()) if part != "[key]")
    path = key_path(tuple(p for p in loc if isinstance(p, (str, int))))
    return Issue(path, f"{quote(item.get('input'))}: {clip(printable(str(item.get('msg', 'is not allowed'))), 200)}")


@dataclass
class _UnionErrors:
    """The errors of one untagged union's branches, gathered to be reported as one issue."""

    located: _Located
    items: list[dict[str, Any]]

    def issue(self) -> Issue:
        try:
            return _union_issue(self.located, self.items)
        except Exception:  # a bug here must not hide the user's error behind a traceback
            return _formatting_failed(self.items[0])


def issues_from(error: ValidationError, root: type[BaseModel]) -> list[Issue]:
    """One Issue per problem pydantic found (one per union, not one per branch tried), in the
    order pydantic found them, with messages written for the person editing the YAML."""
    found: list[Issue | _UnionErrors] = []
    unions: dict[tuple[Any, ...], _UnionErrors] = {}
    for item in error.errors(include_url=False):
        try:
            located = _locate(root, tuple(item["loc"]))
            if located.union_at is None:
                found.extend(_issues_of(item, located))
                continue
            at = located.loc[: located.union_at]
            if at not in unions:
                unions[at] = _UnionErrors(located, [])
                found.append(unions[at])
            unions[at].items.append(item)
        except Exception:  # a bug here must not hide the user's error behind a traceback
            found.append(_formatting_failed(item))
    return [entry.issue() if isinstance(entry, _UnionErrors) else entry for entry in found]
