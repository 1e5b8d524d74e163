"""The config reference (docs/config-reference.md), generated from the model's JSON Schema."""

from __future__ import annotations

import json
from typing import Any


def _type_of(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type_of(s) for s in spec["anyOf"] if s.get("type") != "null")
    if "oneOf" in spec:
        return " or ".join(_type_of(s) for s in spec["oneOf"])
    if "const" in spec:
        return f"`{spec['const']}`"
    if "enum" in spec:
        return " / ".join(f"`{v}`" for v in spec["enum"])
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(spec.get('items', {}))}"
    if kind == "object" and "additionalProperties" in spec and isinstance(spec["additionalProperties"], dict):
        return f"mapping of name to {_type_of(spec['additionalProperties'])}"
    return str(kind)


def _default(spec: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in spec:
        return ""
    text = json.dumps(spec["default"])
    return f"`{text}`" if len(text) <= 40 else "see description"


def markdown(schema: dict[str, Any]) -> str:
    """Every section of the QHub file as a table of keys, types, defaults and descriptions."""
    lines = [
        "# QHub file reference",
        "",
        "Generated from the config model by `python -m qhub schema --markdown`; do not edit by hand.",
        "Editors validate and complete the file with `qhub.schema.json` (see the stack files' first line).",
        "",
    ]
    sections = [("QHubConfig", schema)] + sorted(schema.get("$defs", {}).items())
    for name, definition in sections:
        properties = definition.get("properties")
        if not properties:
            continue
        lines += [f"## {name}", "", definition.get("description", "").strip(), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        required = set(definition.get("required", []))
        for key, spec in properties.items():
            description = spec.get("description", "").replace("|", "\\|")
            if spec.get("immutable"):
                description += " **Immutable.**"
            lines.append(f"| `{key}` | {_type_of(spec)} | {_default(spec, key in required)} | {description} |")
        lines.append("")
    return "\n".join(lines)
