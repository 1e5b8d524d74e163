"""A container of a planned pod, as the kubelet would start it: its files, its environment, and a
way to run a program where those files are at their in-container paths.

Upstream programs read their configuration from fixed absolute paths (z2jh's z2jh.py reads
/usr/local/etc/jupyterhub/secret/values.yaml, the gateway reads /etc/dask-gateway/...). To run
them unchanged, `run_in` starts the program in a private mount namespace (`unshare --mount`)
where each directory that must hold the container's files is overlaid (overlayfs: the host's
contents stay visible, the container's files are added on top, and writes land in a temporary
directory). The host's file system is never written. Needs root, as the tests run here and in CI.

Objects come from a plan: QHub's own Kubernetes objects (their recorded inputs) and every object
of every Helm release rendered by the real helm (tests/support/helm.py). What a Secret's value
was a Pulumi secret for ("[secret]" in a plan) gets a stand-in value, `stand_in_secret`, unless
the caller gives the real one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qhub.offline.engine import SECRET, Plan
from tests.support.helm import render_plan

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


class ContainerError(AssertionError):
    """The pod refers to something the plan does not have (a Secret key, a ConfigMap)."""


def stand_in_secret(secret: str, key: str) -> str:
    """The value used for a Secret key whose content is a Pulumi secret in the plan."""
    return "test-" + hashlib.sha256(f"{secret}/{key}".encode()).hexdigest()[:32]


def plan_objects(plan: Plan, kube_version: str) -> list[dict[str, Any]]:
    """Every Kubernetes object the plan puts into the cluster: QHub's own and the rendered charts'.

    Rendered objects without a namespace get their release's (helm template leaves it out).
    """
    objects: list[dict[str, Any]] = []
    for resource in plan.resources:
        kind = resource.inputs.get("kind")
        if resource.custom and not resource.read and resource.type.startswith("kubernetes:") and kind:
            objects.append(resource.inputs)
    namespaces = {r.inputs["name"]: r.inputs["namespace"] for r in plan.of_type("kubernetes:helm.sh/v3:Release")}
    for release, rendered in render_plan(plan, kube_version).items():
        for manifest in rendered:
            # A shallow copy with its own metadata: the rendered objects are shared (cached).
            metadata = {"namespace": namespaces[release], **manifest.get("metadata", {})}
            objects.append({**manifest, "metadata": metadata})
    return objects


def find(objects: Iterable[Mapping[str, Any]], kind: str, name: str, namespace: str | None = None) -> Mapping[str, Any]:
    """The one object of this kind and name (in `namespace`, when given)."""
    found = [o for o in objects if o.get("kind") == kind and o["metadata"]["name"] == name
             and (namespace is None or o["metadata"].get("namespace") == namespace)]
    if len(found) != 1:
        raise ContainerError(f"{len(found)} objects are {kind} {name!r}" + (f" in {namespace}" if namespace else ""))
    return found[0]


@dataclass
class Container:
    """What a container sees: files at absolute paths, writable directories, environment."""

    name: str
    image: str
    argv: list[str]
    """command + args as the pod spec gives them (empty when the image's entrypoint is used)."""
    env: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    directories: set[str] = field(default_factory=set)
    """Mount points of emptyDir and volume claims: empty and writable."""
    working_dir: str | None = None

    def text(self, path: str) -> str:
        return self.files[path].decode()


class _Objects:
    """The plan's objects in one namespace, with Secret and ConfigMap contents decoded."""

    def __init__(self, objects: Iterable[Mapping[str, Any]], namespace: str, secrets: Mapping[tuple[str, str], str]) -> None:
        self.objects = [o for o in objects if o.get("metadata", {}).get("namespace") in (namespace, None)]
        self.namespace = namespace
        self.secrets = secrets

    def config_map(self, name: str) -> dict[str, bytes]:
        found = find(self.objects, "ConfigMap", name)
        data = {k: str(v).encode() for k, v in (found.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (found.get("binaryData") or {}).items()})
        return data

    def secret(self, name: str) -> dict[str, bytes]:
        """A Secret's keys; for one whose whole content is a Pulumi secret ("[secret]" in the
        plan: its keys are not known offline), only the keys given in `secrets`."""
        found = find(self.objects, "Secret", name)
        data: dict[str, bytes] = {key: value.encode() for (secret, key), value in self.secrets.items() if secret == name}
        for field_name, encoded in (("data", True), ("stringData", False)):
            content = found.get(field_name)
            for key, value in (content.items() if isinstance(content, dict) else ()):
                data[key] = self._secret_value(name, key, value, encoded=encoded)
        return data

    def _secret_value(self, name: str, key: str, value: Any, *, encoded: bool) -> bytes:
        if (name, key) in self.secrets:
            return self.secrets[(name, key)].encode()
        if value == SECRET:
            return stand_in_secret(name, key).encode()
        return base64.b64decode(value) if encoded else str(value).encode()

    def secret_key(self, name: str, key: str) -> str | None:
        try:
            data = self.secret(name)
        except ContainerError:
            return None
        if key not in data and SECRET in (find(self.objects, "Secret", name).get("stringData"),
                                          find(self.objects, "Secret", name).get("data")):
            return self.secrets.get((name, key), stand_in_secret(name, key))
        return data[key].decode() if key in data else None

    def config_map_key(self, name: str, key: str) -> str | None:
        try:
            data = self.config_map(name)
        except ContainerError:
            return None
        return data[key].decode() if key in data else None

    def service_env(self) -> dict[str, str]:
        """The variables the kubelet sets for every Service of the namespace (enableServiceLinks)."""
        env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        for service in (o for o in self.objects if o.get("kind") == "Service"):
            spec = service.get("spec") or {}
            if spec.get("clusterIP") == "None" or not spec.get("ports"):
                continue
            prefix = service["metadata"]["name"].upper().replace("-", "_")
            digest = hashlib.sha256(service["metadata"]["name"].encode()).digest()
            env[f"{prefix}_SERVICE_HOST"] = f"10.96.{digest[0]}.{digest[1] or 1}"
            env[f"{prefix}_SERVICE_PORT"] = str(spec["ports"][0]["port"])
            for port in spec["ports"]:
                if port.get("name"):
                    env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
        return env


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of env values, args and commands ($$ escapes)."""
    out, index = [], 0
    while index < len(value):
        if value.startswith("$$", index):
            out.append("$")
            index += 2
        elif value.startswith("$(", index) and (end := value.find(")", index)) > 0 and value[index + 2:end] in env:
            out.append(env[value[index + 2:end]])
            index = end + 1
        else:
            out.append(value[index])
            index += 1
    return "".join(out)


def _field(path: str, pod_name: str, namespace: str) -> str:
    values = {"metadata.namespace": namespace, "metadata.name": pod_name, "status.podIP": "127.0.0.1",
              "status.hostIP": "127.0.0.1", "spec.nodeName": "node-1", "spec.serviceAccountName": "default"}
    if path not in values:
        raise ContainerError(f"fieldRef {path} is not known to tests/support/container.py")
    return values[path]


def _environment(container: Mapping[str, Any], objects: _Objects, pod_name: str) -> dict[str, str]:
    env = objects.service_env()
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = objects.config_map(source["configMapRef"]["name"])
        else:
            data = objects.secret(source["secretRef"]["name"])
        env.update({prefix + k: v.decode() for k, v in data.items()})
    for item in container.get("env") or []:
        name = item["name"]
        if "valueFrom" not in item:
            env[name] = _expand(str(item.get("value", "")), env)
            continue
        ref = item["valueFrom"]
        if "secretKeyRef" in ref or "configMapKeyRef" in ref:
            kind = "secretKeyRef" if "secretKeyRef" in ref else "configMapKeyRef"
            target = ref[kind]
            lookup = objects.secret_key if kind == "secretKeyRef" else objects.config_map_key
            value = lookup(target["name"], target["key"])
            if value is None:
                if target.get("optional"):
                    continue
                raise ContainerError(f"env {name}: {kind} {target['name']}/{target['key']} is not in the plan")
            env[name] = value
        elif "fieldRef" in ref:
            env[name] = _field(ref["fieldRef"]["fieldPath"], pod_name, objects.namespace)
        elif "resourceFieldRef" in ref:
            env[name] = "0"
        else:
            raise ContainerError(f"env {name}: unknown valueFrom {sorted(ref)}")
    return env


def _volume_files(volume: Mapping[str, Any], objects: _Objects) -> dict[str, bytes] | None:
    """Relative path -> content of a volume's files; None for an empty writable volume."""
    if "configMap" in volume or "secret" in volume:
        source = volume.get("configMap") or volume["secret"]
        try:
            data = objects.config_map(source["name"]) if "configMap" in volume else objects.secret(source["secretName"])
        except ContainerError:
            if source.get("optional"):
                return {}
            raise
        if source.get("items"):
            if "secret" in volume:  # a key of a Secret whose content the plan hides: its stand-in
                files = {}
                for item in source["items"]:
                    value = objects.secret_key(source["secretName"], item["key"])
                    if value is None:
                        raise ContainerError(f"Secret {source['secretName']} has no key {item['key']}")
                    files[item["path"]] = value.encode()
                return files
            return {item["path"]: data[item["key"]] for item in source["items"]}
        return data
    if "projected" in volume:
        files: dict[str, bytes] = {}
        for part in volume["projected"]["sources"]:
            if "serviceAccountToken" in part:
                files[part["serviceAccountToken"]["path"]] = b"test-service-account-token"
            elif "configMap" in part or "secret" in part:
                key = "configMap" if "configMap" in part else "secret"
                nested = {key: {**part[key], **({"secretName": part[key]["name"]} if key == "secret" else {})}}
                files.update(_volume_files(nested, objects) or {})
        return files
    return None  # emptyDir, persistentVolumeClaim, hostPath: an empty directory


def container_of(objects: Iterable[Mapping[str, Any]], workload: Mapping[str, Any], container_name: str, *,
                 secrets: Mapping[tuple[str, str], str] | None = None) -> Container:
    """The named container of a Deployment, StatefulSet, DaemonSet, Job or Pod, as the kubelet starts it.

    `secrets` gives real values for (Secret name, key) pairs; others that are Pulumi secrets in
    the plan get stand_in_secret values.
    """
    namespace = workload["metadata"].get("namespace", "default")
    spec = workload["spec"] if workload["kind"] == "Pod" else workload["spec"]["template"]["spec"]
    (container,) = [c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == container_name]
    view = _Objects(objects, namespace, secrets or {})
    pod_name = f"{workload['metadata']['name']}-0"
    env = _environment(container, view, pod_name)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    result = Container(container_name, container["image"],
                       [_expand(a, env) for a in [*(container.get("command") or []), *(container.get("args") or [])]],
                       env, working_dir=container.get("workingDir"))
    if spec.get("automountServiceAccountToken", True):
        result.files.update({f"{SERVICE_ACCOUNT_DIR}/token": b"test-service-account-token",
                             f"{SERVICE_ACCOUNT_DIR}/namespace": namespace.encode()})
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None:
            raise ContainerError(f"volume mount {mount['name']} has no volume in the pod")
        files = _volume_files(volume, view)
        target = PurePosixPath(mount["mountPath"])
        sub = mount.get("subPath")
        if files is None:
            result.directories.add(str(target))
        elif sub and sub in files:
            result.files[str(target)] = files[sub]
        else:
            prefix = f"{sub}/" if sub else ""
            result.directories.add(str(target))
            for relative, content in files.items():
                if relative.startswith(prefix):
                    result.files[str(target / relative[len(prefix):])] = content
    return result


def _overlay_roots(paths: Iterable[str]) -> list[str]:
    """The fewest existing host directories whose overlays make room for every path."""
    roots: set[str] = set()
    for path in paths:
        ancestor = PurePosixPath(path).parent
        while not os.path.isdir(ancestor):
            ancestor = ancestor.parent
        if str(ancestor) == "/":
            raise ContainerError(f"{path}: overlaying / is not supported; its top-level folder must exist on the host")
        roots.add(str(ancestor))
    return sorted(r for r in roots if not any(r != o and r.startswith(o.rstrip("/") + "/") for o in roots))


@dataclass(frozen=True)
class Layout:
    """A container prepared in a host directory: the overlays to mount (`lower` is the host
    directory overlaid, `upper` holds the container's files for it), the environment and the
    working directory of its process."""

    mounts: list[dict[str, str]]
    env: dict[str, str]
    cwd: str


def lay_out(container: Container, root: Path, *, extra_env: Mapping[str, str] | None = None,
            cwd: str | None = None) -> Layout:
    """Write the container's files under `root` as overlays of the host directories they go in.

    The host's PATH stays, so that a test venv's python is found; HOME is a fresh directory
    unless the container sets it.
    """
    targets = [*container.files, *(f"{d}/." for d in container.directories)]
    mounts = []
    for index, overlay in enumerate(_overlay_roots(targets)):
        upper, work = root / f"upper{index}", root / f"work{index}"
        upper.mkdir()
        work.mkdir()
        for path, content in container.files.items():
            if path.startswith(overlay.rstrip("/") + "/"):
                target = upper / os.path.relpath(path, overlay)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        for directory in container.directories:
            if directory.startswith(overlay.rstrip("/") + "/"):
                (upper / os.path.relpath(directory, overlay)).mkdir(parents=True, exist_ok=True)
        mounts.append({"lower": overlay, "upper": str(upper), "work": str(work)})
    home = root / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           **container.env, **(extra_env or {})}
    return Layout(mounts, env, cwd or container.working_dir or str(home))


def run_in(container: Container, argv: list[str], *, input: str | None = None, timeout: float = 300,
           extra_env: Mapping[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `argv` with the container's files in place and its environment (plus `extra_env`),
    in a private mount namespace of its own (`unshare --mount`)."""
    with tempfile.TemporaryDirectory(prefix="qhub-container-") as tmp:
        layout = lay_out(container, Path(tmp), extra_env=extra_env, cwd=cwd)
        mounts = [f"mount -t overlay overlay -o lowerdir={shlex.quote(m['lower'])},upperdir={shlex.quote(m['upper'])},"
                  f"workdir={shlex.quote(m['work'])} {shlex.quote(m['lower'])}" for m in layout.mounts]
        script = " && ".join([*mounts, 'cd "$QHUB_TEST_CWD"', 'unset QHUB_TEST_CWD', 'exec "$@"'])
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *argv],
            input=input, capture_output=True, text=True, env={**layout.env, "QHUB_TEST_CWD": layout.cwd},
            timeout=timeout, check=False,
        )
