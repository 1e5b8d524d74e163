"""Run a driver in a container's files many times, importing its upstream program once.

`ForkServer(python, driver).run(container, input=...)` does what
`run_in(container, [python, driver], input=...)` does (tests/support/container.py) and returns
the same CompletedProcess, but the driver runs in a child forked from a long-lived process of
`python` that imported the driver module, and so JupyterHub or dask-gateway-server, once
(tests/runtimes/fork_server.py). Importing those costs 4-6 s of CPU per process; a test run
starts dozens of them.

One server per driver and pytest process, started on first use and stopped when the process
exits; runs are served one at a time (a lock: the hub's background runs use threads).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from tests.support.container import Container, lay_out

SERVER = Path(__file__).resolve().parents[1] / "runtimes" / "fork_server.py"


class ForkServerError(AssertionError):
    """The server process died or answered nonsense."""


class ForkServer:
    def __init__(self, python: Path, driver: Path) -> None:
        self.python = python
        self.driver = driver
        self._process: subprocess.Popen[str] | None = None
        self._home = ""
        self._lock = threading.Lock()
        self._log = tempfile.TemporaryFile(mode="w+")

    def _server(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            # Only what run_in gives a program besides the container's own variables: the
            # driver's imports must not see this pytest process's environment.
            self._home = tempfile.mkdtemp(prefix="fork-server-home-")
            atexit.register(shutil.rmtree, self._home, True)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self._home, "LANG": "C.UTF-8"}
            self._process = subprocess.Popen([str(self.python), str(SERVER), str(self.driver)], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=self._log, text=True, env=env, cwd=env["HOME"])
            atexit.register(self._process.kill)
            if self._answer(self._process).get("ready") is not True:
                raise ForkServerError(f"{self.driver.name}'s fork server did not start")
        return self._process

    def _answer(self, process: subprocess.Popen[str]) -> dict[str, object]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            self._log.seek(0)
            raise ForkServerError(f"{self.driver.name}'s fork server exited ({process.wait()}):\n{self._log.read()[-4000:]}")
        answer: dict[str, object] = json.loads(line)
        return answer

    def run(self, container: Container, *, input: str = "", timeout: float = 300,
            extra_env: Mapping[str, str] | None = None, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
        """The driver run as `run_in(container, [python, driver], ...)` would run it."""
        with tempfile.TemporaryDirectory(prefix="qhub-container-") as tmp, self._lock:
            root = Path(tmp)
            layout = lay_out(container, root, extra_env=extra_env, cwd=cwd)
            streams = {name: root / name for name in ("stdin", "stdout", "stderr")}
            streams["stdin"].write_text(input)
            streams["stdout"].touch()
            streams["stderr"].touch()
            process = self._server()
            request = {"mounts": layout.mounts, "empty": [self._home], "env": layout.env, "cwd": layout.cwd,
                       "timeout": timeout, **{name: str(path) for name, path in streams.items()}}
            assert process.stdin is not None
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            returncode = self._answer(process)["returncode"]
            assert isinstance(returncode, int)
            argv = [str(self.python), str(self.driver)]
            return subprocess.CompletedProcess(argv, returncode, streams["stdout"].read_text(), streams["stderr"].read_text())
