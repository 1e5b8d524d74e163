"""`qhub schema`: the JSON Schema of the QHub file, for editors and the YAML language server."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def schema() -> dict[str, Any]:
    """The JSON Schema of a QHub file, as editors read it (keys by their YAML names)."""
    from qhub.config import QHubConfig

    document = QHubConfig.model_json_schema(by_alias=True, mode="validation")
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "QHub file"
    return document


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "schema", help="print the JSON Schema of the QHub file",
        description="Print (or write) the JSON Schema of the QHub file; stack files reference qhub.schema.json.",
    )
    parser.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    parser.add_argument("--markdown", action="store_true", help="the config reference as Markdown instead")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        from qhub.config.reference import markdown

        text = markdown(schema())
    else:
        text = json.dumps(schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
