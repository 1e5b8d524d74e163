"""`qhub init PROVIDER`: write a working stack (its QHub file and Pulumi.<stack>.yaml).

Writes stacks/<stack>.yaml, Pulumi.<stack>.yaml, qhub.schema.json (for editors) and, when
ci_cd is github-actions, the GitHub workflows that are missing (with the images workflow, the
image/ files it builds, where missing). Refuses to overwrite a stack
without --force.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from qhub.cli import output

PROVIDERS = ("aws", "gcp", "do", "azure", "existing")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "init", help="write a new stack: stacks/STACK.yaml and Pulumi.STACK.yaml",
        description="Write a starter QHub file and Pulumi stack file. Missing flags are asked for on a terminal.",
    )
    parser.add_argument("provider", choices=PROVIDERS, help="where the cluster runs")
    parser.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    parser.add_argument("--project-name", help="names the cloud resources (lowercase, 3-32 characters)")
    parser.add_argument("--domain", help="DNS name the platform is served at")
    parser.add_argument("--region", help="cloud region (a sensible one per cloud by default)")
    parser.add_argument("--auth", choices=("GitHub", "Auth0", "password"), default="GitHub", help="login method (default: GitHub)")
    parser.add_argument("--oauth-client-id", help="client id of the GitHub or Auth0 OAuth app")
    parser.add_argument("--ci", choices=("github-actions", "none"), default="github-actions", help="CI that previews and deploys (default: github-actions)")
    parser.add_argument("--repository", help="GitHub repository (owner/name) whose main branch may push the custom images")
    parser.add_argument("--project-dir", type=Path, default=Path("."), help="directory holding Pulumi.yaml (default: .)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing stack")
    parser.set_defaults(run=run)


def _ask(name: str, value: str | None, question: str) -> str | None:
    """The flag's value, or the answer to a prompt when on a terminal."""
    if value:
        return value
    if not sys.stdin.isatty():
        return None
    answer = input(f"{question}: ").strip()
    return answer or None


def run(args: argparse.Namespace) -> int:
    from qhub.config import ConfigError, parse_config
    from qhub.init_templates import starter_config

    project_name = _ask("project-name", args.project_name, "Project name (lowercase letters, digits, hyphens)")
    domain = _ask("domain", args.domain, "Domain the platform is served at (e.g. jupyter.example.org)")
    missing = [flag for flag, value in (("--project-name", project_name), ("--domain", domain)) if not value]
    if missing:
        output.error(f"{' and '.join(missing)} required (no terminal to ask on)")
        return 2
    project_dir: Path = args.project_dir
    qhub_file = project_dir / "stacks" / f"{args.stack}.yaml"
    stack_file = project_dir / f"Pulumi.{args.stack}.yaml"
    existing = [str(p) for p in (qhub_file, stack_file) if p.exists()]
    if existing and not args.force:
        output.error(f"{', '.join(existing)} already exist; pass --force to overwrite")
        return 1

    document = starter_config(args.provider, project_name=project_name, domain=domain, region=args.region)
    document["ci_cd"] = {"type": args.ci, "branch": "main", **({"repository": args.repository} if args.repository else {})}
    document["security"]["authentication"] = _authentication(args)
    try:
        parse_config(document, str(qhub_file))
    except ConfigError as error:  # e.g. a project name or domain the rules refuse
        output.issues(str(qhub_file), error.issues)
        return 1

    qhub_file.parent.mkdir(parents=True, exist_ok=True)
    qhub_file.write_text(_qhub_file_text(document, args), encoding="utf-8")
    stack_file.write_text(_stack_file_text(args), encoding="utf-8")
    _write_schema(project_dir)
    written = [str(qhub_file), str(stack_file)]
    if args.ci == "github-actions":
        written += _write_missing_workflows(project_dir)
    for path in written:
        output.success(f"wrote {path}")
    print(_next_steps(args))
    return 0


def _authentication(args: argparse.Namespace) -> dict[str, Any]:
    if args.auth == "password":
        return {"type": "password"}
    if args.auth == "Auth0" and not args.oauth_client_id:
        return {"type": "Auth0", "config": {}}  # the program creates the Auth0 application
    client = {"client_id": args.oauth_client_id or "REPLACE-WITH-OAUTH-CLIENT-ID"}
    return {"type": args.auth, "config": client}


def _qhub_file_text(document: dict[str, Any], args: argparse.Namespace) -> str:
    import yaml

    header = (
        "# yaml-language-server: $schema=../qhub.schema.json\n"
        f"# QHub file of stack `{args.stack}`, written by `qhub init {args.provider}`. Check it with `qhub validate -s {args.stack}`.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def _stack_file_text(args: argparse.Namespace) -> str:
    # No secret and no encryptionsalt: both belong to whoever runs the stack, and a ciphertext
    # made with another passphrase or key would fail their first preview.
    lines = [
        f"# Stack `{args.stack}`: everything it deploys is in its QHub file. Only encrypted secrets go here,",
        "# set with your own secrets provider before the first `pulumi up`:",
    ]
    if args.auth != "password":
        lines.append("#   pulumi config set --secret qhub:oauthClientSecret <client secret>")
        lines.append("# Without it a preview warns and an update stops.")
    else:
        lines.append("#   pulumi config set --secret qhub:hubPassword <password>")
        lines.append("# Without it the stack generates one (output hub_password).")
    lines += ["config:", f"  qhub:configFile: stacks/{args.stack}.yaml", ""]
    return "\n".join(lines)


def _write_schema(project_dir: Path) -> None:
    from qhub.cli.schema import schema

    (project_dir / "qhub.schema.json").write_text(json.dumps(schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_missing_workflows(project_dir: Path) -> list[str]:
    """Workflows ci_cd: github-actions needs, and the image/ files the images workflow builds;
    existing ones are kept as they are."""
    from qhub.cicd import IMAGES_WORKFLOW, expected_workflows
    from qhub.images import image_files

    files = expected_workflows(project_dir)
    if IMAGES_WORKFLOW in files:
        files.update(image_files())
    written = []
    for relative, text in files.items():
        path = project_dir / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(str(path))
    return written


def _next_steps(args: argparse.Namespace) -> str:
    steps = (
        f"\nnext: qhub validate -s {args.stack} && qhub plan -s {args.stack}\n"
        f"then: pulumi stack init {args.stack} && pulumi preview -s {args.stack}"
    )
    if args.ci == "github-actions" and not args.repository:
        steps += f"\nso CI can push the custom images (image/): set ci_cd.repository: OWNER/NAME in stacks/{args.stack}.yaml"
    return steps
