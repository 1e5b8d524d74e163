"""`qhub plan`: run the stack's program offline and show every resource it would create."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from qhub.cli import output
from qhub.cli.targets import add_target_arguments, resolve


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "plan", help="show the resources a stack would create, offline (no cloud, no Pulumi CLI)",
        description="Run the Pulumi program under mocks and print the resource tree with counts per type, "
                    "or with --json the plan format of DESIGN.md (secrets shown as \"[secret]\").",
    )
    add_target_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from qhub.config import ConfigError

    try:
        targets = resolve(args, all_when_none=False)
    except ConfigError as error:
        output.issues(error.source, error.issues)
        return 1
    if len(targets) != 1:
        output.error("name one stack with --stack NAME, or a QHub file with --config FILE")
        return 2
    target = targets[0]
    try:
        loaded = _load(target.path)
    except ConfigError as error:
        output.issues(error.source, error.issues)
        return 1
    output.issues(loaded.source, loaded.warnings)

    from qhub.config.files import stack_settings
    from qhub.offline.engine import plan_program

    settings = stack_settings(target.stack, target.project_dir) if args.config is None else {}
    try:
        plan = plan_program(target.path, target.stack, loaded.config.provider.value, extra_config=settings)
    except Exception as error:  # noqa: BLE001 - a failure of the program itself, reported plainly
        if os.environ.get("QHUB_DEBUG"):
            traceback.print_exc()
        output.error(f"the program failed while planning stack {target.stack}: {error} (set QHUB_DEBUG=1 for the traceback)")
        return 1
    if args.json:
        json.dump(plan.to_json(), sys.stdout, indent=2, sort_keys=False)
        print()
    else:
        print_tree(plan.to_json())
        from qhub.plan_footprint import footprint

        print(f"\n{footprint(plan.to_json()).summary()}")
    return 0


def _load(path: Path):  # type: ignore[no-untyped-def]  # -> LoadedConfig
    """The validated config, parsed in a child process while this one imports Pulumi and the
    modules the stack will use (qhub/cli/background.py)."""
    import importlib
    import re

    from qhub.cli.background import read_in_background
    from qhub.config.files import read_text
    from qhub.config.load import load_document

    text = read_text(path)
    document = read_in_background(path)
    import qhub.offline.engine  # noqa: F401 - Pulumi, its mocks and the SDK import hook
    from qhub.stack import CLOUD_MODULES, DNS_MODULES
    from qhub.config.dns import DnsProvider
    from qhub.config.model import Provider

    # A guess from the text is enough to warm up imports; the validated config decides later.
    guess = re.search(r"^provider:\s*[\"']?(\w+)", text, re.MULTILINE)
    layers = ["qhub.platform"]
    if guess and guess[1] in Provider.__members__:
        layers.append(CLOUD_MODULES[Provider(guess[1])])
    # `dns.provider` names differ from every cloud's `provider`, so an indented one is the DNS service.
    dns_guess = re.search(r"^\s+provider:\s*[\"']?(route53|cloud-dns|azure-dns|digitalocean|cloudflare)\b", text, re.MULTILINE)
    if dns_guess:
        layers.append(DNS_MODULES[DnsProvider(dns_guess[1])])
    for layer in layers:
        for module in importlib.import_module(layer).SDK_MODULES:
            importlib.import_module(module)
    return load_document(text, document(), str(path))


def print_tree(plan: dict[str, Any]) -> None:
    """The resource tree, then a table of counts per type."""
    resources = plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in resources}
    for resource in resources:
        parent = resource["parent"] if resource["parent"] in urns else None
        children.setdefault(parent, []).append(resource)

    def show(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            flags = " [protected]" if resource["protect"] else (" [retained]" if resource["retainOnDelete"] else "")
            print(f"{'  ' * depth}{resource['name']}  ({resource['type']}){flags}")
            show(resource["urn"], depth + 1)

    print(f"stack {plan['stack']} ({plan['provider']}): {len(resources)} resources")
    show(None, 1)
    counts = Counter(r["type"] for r in resources)
    width = max((len(t) for t in counts), default=4)
    print()
    print(f"{'type'.ljust(width)}  count")
    for type_token, count in sorted(counts.items()):
        print(f"{type_token.ljust(width)}  {count:5d}")
    print(f"{'total'.ljust(width)}  {len(resources):5d}")
    if plan["outputs"]:
        print("\noutputs:")
        for key, value in plan["outputs"].items():
            print(f"  {key}: {json.dumps(value)}")
