"""Import the generated Pulumi SDKs (pulumi_kubernetes, pulumi_aws, ...) with postponed annotations.

Creates nothing; `install()` adds an import hook for the offline engine. The generated SDKs
annotate every argument of every resource and input type (`pulumi.Input[Optional[...]]`), and
Python evaluates those annotations when a module runs: importing pulumi_kubernetes.core.v1
and pulumi_aws.ec2 alone built ~140,000 typing objects, about a third of a whole `qhub plan`.
The hook compiles the SDK modules as if they began with `from __future__ import annotations`
(PEP 563), so annotations stay strings until asked for. Pulumi only reads them through
typing.get_type_hints with the module's globals (pulumi/_types.py), which resolves strings as
it already resolves the SDKs' own quoted forward references; the plan is the same either way
(tests/test_offline_engine.py compares both).

The hook also makes the generated packages' `from .module import *` lines lazy (see
_lazy_package_source): pulumi_aws.ec2 alone would import some 180 resource modules a stack
never uses.

Only the offline engine installs it; `pulumi up` imports the SDKs unchanged. The bytecode is
cached beside the normal .pyc as `<module>.cpython-311.pep563.pyc` (validated by source mtime
and size, as CPython does), so the two compilations never mix. It is written even under
PYTHONDONTWRITEBYTECODE: without it every plan would compile megabytes of SDK source, slower
than the annotations it saves.
"""

from __future__ import annotations

import __future__
import importlib.machinery
import importlib.util
import marshal
import os
import re
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from types import CodeType, ModuleType

# Generated SDK packages; `pulumi` itself (hand-written) is left alone.
SDK_PREFIX = "pulumi_"
# The suffix names the transformation, so bytecode of an older one is never reused.
_CACHE_SUFFIX = ".pep563-lazy1.pyc"
_STAR_IMPORT = re.compile(rb"^from \.(?P<module>[A-Za-z0-9_]+) import \*$", re.MULTILINE)
_ALL = re.compile(rb"^__all__ = \[(?P<names>[^\]]*)\]", re.MULTILINE)
# Modules the package keeps importing eagerly: small, or needed by every resource module anyway.
_EAGER = {b"_enums", b"_inputs"}


class _PostponedAnnotationsLoader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles with PEP 563 and keeps that bytecode in its own cache file."""

    def get_code(self, fullname: str) -> CodeType:
        source_path = self.get_filename(fullname)
        cache_path = importlib.util.cache_from_source(source_path).removesuffix(".pyc") + _CACHE_SUFFIX
        stat = os.stat(source_path)
        # The 16-byte header of a timestamp .pyc: magic, flags, source mtime, source size.
        header = (importlib.util.MAGIC_NUMBER + bytes(4) + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                  + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
        try:
            with open(cache_path, "rb") as cached:
                data = cached.read()
            if data[:16] == header:
                return marshal.loads(memoryview(data)[16:])  # type: ignore[no-any-return]
        except (OSError, EOFError, ValueError, TypeError):
            pass  # no cache yet, or an unreadable one: compile again
        source = self.get_data(source_path)
        if source_path.endswith("__init__.py"):
            source = _lazy_package_source(source, os.path.dirname(source_path))
        code = compile(source, source_path, "exec",
                       flags=__future__.annotations.compiler_flag, dont_inherit=True)
        try:
            os.makedirs(os.path.dirname(cache_path), exist_ok=True)
            partial = f"{cache_path}.{os.getpid()}.tmp"
            with open(partial, "wb") as out:
                out.write(header + marshal.dumps(code))
            os.replace(partial, cache_path)  # atomic: parallel test workers never read half a file
        except OSError:
            pass  # a read-only environment only loses the cache
        return code


def _lazy_package_source(source: bytes, folder: str) -> bytes:
    """A generated SDK package's `__init__` with its `from .x import *` lines made lazy.

    `pulumi_aws.ec2` star-imports ~180 resource modules and `pulumi_kubernetes.core.v1` ~150,
    though a stack uses a handful. Each resource module names its exports in `__all__`; the
    package instead gets a table of name -> module and imports a module the first time one of
    its names is asked for (PEP 562). A package that does not follow the generated pattern (a
    module without a literal `__all__`) is left as it is.
    """
    table: dict[str, str] = {}
    lazy: list[bytes] = []
    for match in _STAR_IMPORT.finditer(source):
        module = match["module"]
        if module in _EAGER:
            continue
        try:
            with open(os.path.join(folder, module.decode() + ".py"), "rb") as handle:
                head = handle.read(4096)
        except OSError:
            return source
        found = _ALL.search(head)
        if found is None:
            return source
        for name in re.findall(rb"'([A-Za-z0-9_]+)'", found["names"]):
            table[name.decode()] = module.decode()
        lazy.append(match.group(0))
    if not lazy:
        return source
    for line in lazy:
        source = source.replace(line + b"\n", b"", 1)
    return source + (
        b"\n# Made lazy by qhub.offline.lazy_annotations: names load with their module on first use.\n"
        b"_LAZY_EXPORTS = " + repr(table).encode() + b"\n"
        b"def __getattr__(name):\n"
        b"    module = _LAZY_EXPORTS.get(name)\n"
        b"    if module is None:\n"
        b"        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')\n"
        b"    import importlib\n"
        b"    value = getattr(importlib.import_module('.' + module, __name__), name)\n"
        b"    globals()[name] = value\n"
        b"    return value\n"
        b"def __dir__():\n"
        b"    return sorted(set(globals()) | set(_LAZY_EXPORTS))\n"
    )


class _SdkFinder(MetaPathFinder):
    """Finds SDK modules as the normal path finder does, then swaps in the loader above."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(SDK_PREFIX):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec
        spec.loader = _PostponedAnnotationsLoader(spec.loader.name, spec.loader.path)
        return spec


def install() -> None:
    """Add the hook (once); SDK modules imported from now on load with postponed annotations."""
    if not any(isinstance(finder, _SdkFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SdkFinder())
