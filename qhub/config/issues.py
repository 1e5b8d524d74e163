"""Turning pydantic's errors into Issues that name the key path, the value and what is allowed."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from qhub.config.errors import Issue

AUTH_TAGS = ("GitHub", "Auth0", "password")


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in str(part) or " " in str(part):
            text += f"[{str(part)!r}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unwrap(annotation: Any) -> Any:
    """Strip Optional and Annotated from an annotation."""
    from typing import Annotated, get_args, get_origin

    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        args = get_args(annotation)
        if type(None) in args and len(args) == 2:
            annotation = next(a for a in args if a is not type(None))
            continue
        return annotation


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the last key of `loc` (pydantic's raw loc), for listing keys."""
    from typing import get_args, get_origin

    model: Any = root
    for part in loc[:-1]:
        model = _unwrap(model)
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(part) or next(
                (f for f in model.model_fields.values() if f.validation_alias and part in str(f.validation_alias)), None
            )
            if field is None:
                return None
            model = field.annotation
        elif get_origin(model) in (dict, list):
            model = get_args(model)[-1]
        else:  # a tagged union: `part` is the tag of the branch
            branches = [b for b in get_args(model) if isinstance(b, type) and issubclass(b, BaseModel)]
            model = next((b for b in branches if part in str(b.model_fields["type"].annotation)), None)
            if model is None:
                return None
    model = _unwrap(model)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def issues_from(error: ValidationError, root: type[BaseModel]) -> list[Issue]:
    """One Issue per pydantic error, with messages written for the person editing the YAML."""
    issues: list[Issue] = []
    for item in error.errors(include_url=False):
        raw_loc = tuple(item["loc"])
        loc = raw_loc
        # Drop the branch name pydantic puts after a tagged union ("authentication.GitHub.config").
        loc = tuple(p for i, p in enumerate(loc) if not (i and loc[i - 1] == "authentication" and p in AUTH_TAGS))
        kind = item["type"]
        value = item.get("input")
        ctx = item.get("ctx") or {}
        if kind == "qhub_rule" and ctx.get("nested"):
            base = _path(loc)
            for line in str(ctx["text"]).splitlines():
                relative, _, message = line.partition(": ")
                joined = f"{base}.{relative}" if base and not relative.startswith("[") else f"{base}{relative}"
                issues.append(Issue(joined, message))
            continue
        path = _path(loc)
        if kind == "qhub_rule":
            message = str(ctx["text"])
        elif kind == "extra_forbidden":
            model = _model_at(root, raw_loc)
            allowed = sorted(
                (f.alias or name) for name, f in (model.model_fields.items() if model else [])
            )
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            message = f"unknown key; {hint}allowed here: {', '.join(allowed) or 'none'}"
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "union_tag_invalid":
            message = f"type {_short(ctx.get('tag'))} is not supported; allowed: {ctx.get('expected_tags')}"
        elif kind == "union_tag_not_found":
            message = f"`type` is missing; allowed: {ctx.get('expected_tags', 'GitHub, Auth0, password')}"
        elif kind == "enum":
            message = f"{_short(value)} is not allowed; allowed: {ctx.get('expected')}"
        elif kind == "literal_error":
            message = f"{_short(value)} is not allowed; allowed: {ctx.get('expected')}"
        elif kind == "string_pattern_mismatch":
            message = f"{_short(value)} does not match the required form {ctx.get('pattern')}"
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            message = f"expected a mapping of keys to values, got {_short(value)}"
        elif kind == "list_type":
            message = f"expected a list, got {_short(value)}"
        else:
            message = f"{_short(value)}: {item['msg'][:1].lower()}{item['msg'][1:]}"
        issues.append(Issue(path, message))
    return issues
