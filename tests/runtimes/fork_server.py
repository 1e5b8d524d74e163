"""Runs a driver program many times, each in a container's files, without importing it each time.

Started by tests/support/fork_server.py with a test venv's python (the hub image's, the
gateway's): `python fork_server.py DRIVER`. It imports the driver module once (the driver's own
imports bring in JupyterHub or dask-gateway-server, which cost seconds of CPU per process),
then serves requests, one JSON line each on stdin:

    {"mounts": [{"lower", "upper", "work"}...], "empty": [directory...], "env": {...},
     "cwd": "...", "stdin": path, "stdout": path, "stderr": path, "timeout": seconds}

For each request a child is forked that enters the container as `run_in` does
(tests/support/container.py): a private mount namespace where each `lower` directory is
overlaid by its prepared `upper` one, exactly the given environment, the working directory; its
standard streams are the three files (opened before the namespace changes, so they are the
host's). Each `empty` directory gets a fresh empty file system of the child's own: the server's
HOME, so that what a run writes there is gone with it. Then the driver's `main()` runs as if
the driver had been started as a program there. The answer is one JSON line on stdout:
{"returncode": n} (negative: killed by that signal, as subprocess reports it). Requests are
served one at a time.

What this changes against a fresh process: the driver's modules were imported under the
server's environment, not the container's (the server starts with PATH, HOME and LANG only).
Most upstream modules read the environment when they are configured, but not all:
kubernetes_asyncio fixes its default kubeconfig path, $HOME/.kube/config, at import, so under a
server that is the server's (empty, per run) HOME. tests/test_hub_config.py checks that a forked
hub reports exactly what a hub in a process of its own reports.
"""

import ctypes
import importlib.util
import json
import os
import signal
import sys
import time

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
_LIBC = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def enter_mount_namespace(mounts, empty):
    """A private mount namespace (nothing propagates back to the host) with the overlays, and an
    empty file system on each directory of `empty`."""
    _check(_LIBC.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(_LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    for directory in empty:
        _check(_LIBC.mount(b"tmpfs", directory.encode(), b"tmpfs", 0, b"mode=0700"), f"mount tmpfs on {directory}")
    for mount in mounts:
        options = f"lowerdir={mount['lower']},upperdir={mount['upper']},workdir={mount['work']}"
        _check(_LIBC.mount(b"overlay", mount["lower"].encode(), b"overlay", 0, options.encode()),
               f"mount overlay on {mount['lower']}")


def load_driver(path):
    spec = importlib.util.spec_from_file_location("__qhub_driver__", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_child(driver, request):
    """In the forked child: become the container's process and run the driver's main()."""
    streams = [os.open(request["stdin"], os.O_RDONLY),
               os.open(request["stdout"], os.O_WRONLY | os.O_TRUNC),
               os.open(request["stderr"], os.O_WRONLY | os.O_TRUNC)]
    for target, fd in enumerate(streams):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    code = 1
    try:
        enter_mount_namespace(request["mounts"], request["empty"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        driver.main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - the traceback goes to the request's stderr
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def wait(pid, timeout):
    """The child's return code as subprocess gives it; killed after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        time.sleep(0.02)


def main():
    driver = load_driver(sys.argv[1])
    requests, answers = sys.stdin, sys.stdout
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(driver, request)
        answers.write(json.dumps({"returncode": wait(pid, request["timeout"])}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
