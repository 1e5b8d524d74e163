"""Run the real __main__.py of a stack under Pulumi mocks and record every registration.

The result is a Plan: each resource with its type, name, parent, provider, dependencies,
protect / retainOnDelete / ignoreChanges and inputs (camelCase, as the engine receives them;
secret values replaced by "[secret]"), and the stack outputs. This is what `qhub plan` prints
and what the tests check; no Pulumi CLI, plugin or cloud is involved.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from qhub.offline import lazy_annotations
from qhub.offline.mocks import CloudMocks

# Before the program imports any generated SDK: they then load several times faster.
lazy_annotations.install()

SECRET = "[secret]"
UNKNOWN = "[unknown]"
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass
class PlannedResource:
    """One registration, as the engine would receive it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    inputs: dict[str, Any]
    read: bool = False
    """An existing object the program reads (`Resource.get`), not one it manages."""

    def to_json(self) -> dict[str, Any]:
        document = {
            "urn": self.urn, "type": self.type, "name": self.name, "custom": self.custom,
            "parent": self.parent, "provider": self.provider, "dependencies": self.dependencies,
            "protect": self.protect, "retainOnDelete": self.retain_on_delete,
            "ignoreChanges": self.ignore_changes, "inputs": self.inputs,
        }
        if self.read:  # the one key beyond DESIGN.md's format, present only on reads
            document["read"] = True
        return document


@dataclass
class Plan:
    """The whole resource graph of one stack."""

    project: str
    stack: str
    provider: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1, "project": self.project, "stack": self.stack, "provider": self.provider,
            "resources": [r.to_json() for r in self.resources], "outputs": self.outputs,
        }

    def of_type(self, type_token: str) -> list[PlannedResource]:
        """Resources of one type token, in URN order."""
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> PlannedResource:
        """The resource with this logical name (names are unique in QHub's graph)."""
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources are named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> PlannedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: PlannedResource) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == parent.urn]


def plain(value: Any) -> Any:
    """A protobuf Struct value as JSON, with Pulumi's special objects made readable and its keys
    in sorted order."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return SECRET
            return plain(value["value"]) if "value" in value else UNKNOWN
        # Keys sorted: the engine's Struct gives them in an order that changes from run to run,
        # and a plan must read the same every time (reviews compare plans as text).
        return {key: plain(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps every registration request, in order."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[PlannedResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.append(PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent or None,
                provider=request.provider or None,
                dependencies=sorted(request.dependencies),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=list(request.ignoreChanges),
                inputs=plain(json_format.MessageToDict(request.object)),
            ))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)
        self.recorded.append(PlannedResource(
            urn=response.urn, type=request.type, name=request.name, custom=True,
            parent=request.parent or None, provider=request.provider or None,
            dependencies=sorted(request.dependencies), protect=False, retain_on_delete=False,
            ignore_changes=[], inputs={"id": plain(request.id) if request.id else UNKNOWN}, read=True,
        ))
        return response


async def _resolve(value: Any) -> Any:
    """A stack output as plain JSON, secrets hidden."""
    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return SECRET
    resolved = await output.future()
    if isinstance(resolved, dict):
        return {key: await _resolve(item) for key, item in resolved.items()}
    if isinstance(resolved, list):
        return [await _resolve(item) for item in resolved]
    return resolved


def _ensure_event_loop() -> None:
    """Pulumi's runtime drives its own coroutines on the thread's event loop; another library's
    asyncio.run() may have closed or unset it, so give the thread a usable one."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def _run(program: Path, stack: str, config: dict[str, str], secret_keys: list[str], provider: str) -> Plan:
    _ensure_event_loop()
    monitor = RecordingMonitor(CloudMocks())
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(CloudMocks(), project="qhub", stack=stack, preview=True, monitor=monitor)

    async def run_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    _sync_await(run_pulumi_func(run_program))
    root = pulumi.runtime.settings.get_root_resource()
    outputs = {key: _sync_await(_resolve(value)) for key, value in (root.outputs if root else {}).items()}
    # Registration order depends on how asyncio interleaves the program; URN order does not.
    return Plan("qhub", stack, provider, sorted(monitor.recorded, key=lambda r: r.urn), outputs)


def plan_program(
    config_file: Path, stack: str, provider: str, *, extra_config: dict[str, Any] | None = None,
    program: Path = PROJECT_DIR / "__main__.py",
) -> Plan:
    """Run the program for one QHub file as stack `stack`.

    `extra_config` holds the stack's other Pulumi config: plain values as given, and encrypted
    ones ({"secure": ...}), which cannot be decrypted here, as placeholder secrets.
    """
    config = {"qhub:configFile": str(config_file.resolve())}
    secret_keys = []
    for key, value in (extra_config or {}).items():
        if key == "qhub:configFile":
            continue
        if isinstance(value, dict) and "secure" in value:
            config[key] = f"offline-placeholder-for-{key}"
            secret_keys.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    # A fresh context per run: Pulumi keeps its settings and root stack in context variables.
    return contextvars.Context().run(_run, program, stack, config, secret_keys, provider)
