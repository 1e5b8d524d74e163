"""Reading a QHub file in a forked child while `qhub plan` imports Pulumi in the parent.

A plan spends about a second importing Pulumi and the SDKs, and a QHub file with 10,000 users
takes about as long to parse (PyYAML builds every node in Python). Both need the CPU, and a
machine has more than one: the child parses and hands the document back through a pipe, the
parent imports meanwhile. Where fork is unavailable, or the child fails in any unexpected way,
the parent simply parses the file itself.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qhub.config.errors import ConfigError
from qhub.config.files import read_document


def read_in_background(path: Path) -> Callable[[], dict[str, Any]]:
    """Start parsing `path`; the returned function waits for the document (or its ConfigError)."""
    if not hasattr(os, "fork"):
        return lambda: read_document(path)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, send, and leave without running the parent's cleanup
        os.close(reader)
        try:
            try:
                payload = pickle.dumps(("document", read_document(path)))
            except ConfigError as error:
                payload = pickle.dumps(("error", error.source, error.issues))
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(writer)

    def result() -> dict[str, Any]:
        with os.fdopen(reader, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        try:
            message = pickle.loads(payload)  # noqa: S301 - our own child, through our own pipe
        except Exception:  # noqa: BLE001 - the child died: parse here instead
            return read_document(path)
        if message[0] == "error":
            raise ConfigError(message[1], message[2])
        return message[1]  # type: ignore[no-any-return]

    return result
