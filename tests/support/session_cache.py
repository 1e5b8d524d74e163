"""Results made once per test run and shared by every pytest process of the run.

`scripts/test` runs pytest in two worker processes (pytest-xdist), and any test may land on
either. What costs seconds to make and is the same for every test that asks (a plan, a chart
rendered by helm, the report of a hub, gateway or conda-store run) is made by the first process
that asks and read back by the others: `shared(key, make)`. A key's result is made once even
when both processes ask at the same moment (an exclusive lock per key), and kept in memory too.

The directory lives for one run: the controlling pytest process creates it and puts it into
the environment (SESSION_DIR_ENV) before the workers start, so they inherit it
(tests/conftest.py, `pytest_configure`). A process started without it (a plain `pytest` run
that is not a worker, or a script) uses a directory of its own.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import pickle
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

SESSION_DIR_ENV = "QHUB_TEST_SESSION_DIR"

T = TypeVar("T")

_MEMORY: dict[str, Any] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def create_session_dir() -> Path:
    """A fresh directory for this run, named in the environment for the processes started later."""
    path = Path(tempfile.mkdtemp(prefix="qhub-test-session-"))
    os.environ[SESSION_DIR_ENV] = str(path)
    return path


def session_dir() -> Path:
    with _GUARD:
        if SESSION_DIR_ENV not in os.environ:
            atexit.register(shutil.rmtree, create_session_dir(), True)
        return Path(os.environ[SESSION_DIR_ENV])


def _key_lock(key: str) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def shared(key: str, make: Callable[[], T]) -> T:
    """`make()`, made once in this run by whichever process asks first. The result must pickle;
    callers must not change what they get (other tests read the same object). An error is not
    kept: the next asker makes it again, and fails the same way."""
    with _key_lock(key):  # threads of this process; the file lock below is for other processes
        if key in _MEMORY:
            return _MEMORY[key]  # type: ignore[no-any-return]
        name = hashlib.sha256(key.encode()).hexdigest()[:40]
        directory = session_dir()
        result_path = directory / f"{name}.pickle"
        with open(directory / f"{name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if result_path.exists():
                value = pickle.loads(result_path.read_bytes())
            else:
                value = make()
                partial = result_path.with_suffix(f".{os.getpid()}.part")
                partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                partial.replace(result_path)
        _MEMORY[key] = value
        return value
