"""Runs conda-store-server 2025.2.2 the way QHub's conda-store pod runs it, and prints what it did.

Run with .venv-conda-store's python inside tests/support/container.run_in, so that QHub's config
module, its settings and the environment files are at their in-container paths:

    python conda_store_driver.py < scenario.json     the server container's command, then requests
    python conda_store_driver.py worker ARGV...      the worker container's command (started by the above)

The scenario (JSON on stdin) gives the two containers' commands (`server`, `worker`), the hub
users to log in (`logins`) and the requests to make without logging in (`anonymous`: method,
path and an optional JSON body). One JSON document goes to stdout; everything conda-store
prints goes to stderr.

The real conda-store-server entry points run: `conda-store-server --config ...` loads QHub's
config module and settings, upgrades its database, and builds its FastAPI app through the same
factory uvicorn calls; `conda-store-worker --config ...` runs the tasks a worker runs when it is
ready, against the same database. Faked boundaries, and only these:
- `conda` itself (installable only through conda): stand-in modules (`_CondaStandIn`); only the
  platform and a package spec's name are read outside environment builds, which never run here;
- the listening socket: uvicorn's `Server.run` loads the app as uvicorn does and returns;
- the Celery worker loop: `Celery.worker_main` runs the worker's start-up tasks once, in process,
  instead of consuming the broker (channel updates, which need the internet, are left out);
- the hub's HTTP answers: requests' transport answers JupyterHub's token and user endpoints (the
  user's name is the OAuth code) and records what conda-store sent to them;
- the server's poll for a ready worker waits 0.05 s between looks instead of 5 s.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from typing import Any
from urllib.parse import parse_qs, urlsplit

PLATFORM = "linux-64"
"""conda's name for the platform the image runs on (`conda.base.context.context.subdir`)."""


class MatchSpec:
    """Stand-in for conda's package spec: conda-store reads only `.name` outside builds. Unlike
    conda's, it refuses no spec, so a dependency conda would reject is not caught here."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.name = re.split(r"[\s=<>!~\[]", spec.split("::")[-1], maxsplit=1)[0]


class _NotInConda:
    """What any other `conda` name is: used only while building environments, so never here."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{self.name}: conda is not installed here (a test stand-in)")


class _CondaStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `conda` and every `conda.*` module conda-store-server imports."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "conda" or name.startswith("conda."):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == "conda.base.context":
            module.context = types.SimpleNamespace(subdir=PLATFORM)  # type: ignore[attr-defined]
        elif module.__name__ == "conda.models.match_spec":
            module.MatchSpec = MatchSpec  # type: ignore[attr-defined]
        module.__getattr__ = lambda attribute: _NotInConda(f"{module.__name__}.{attribute}")  # type: ignore[method-assign]


def _fake_hub(record: list[dict[str, Any]]) -> None:
    """requests' transport answers the hub's OAuth token and user endpoints; nothing else answers."""
    import requests
    from requests.structures import CaseInsensitiveDict

    def send(adapter: Any, request: Any, **kwargs: Any) -> Any:
        url = urlsplit(request.url)
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        seen = {"method": request.method, "url": request.url, "form": {k: v[0] for k, v in parse_qs(body).items()},
                "authorization": request.headers.get("Authorization")}
        record.append(seen)
        if request.method == "POST" and url.path.endswith("/hub/api/oauth2/token"):
            answer: dict[str, Any] = {"access_token": f"hub-token-of-{seen['form'].get('code', '')}", "token_type": "Bearer"}
        elif request.method == "GET" and url.path.endswith("/hub/api/user"):
            user = (seen["authorization"] or "").removeprefix("Bearer hub-token-of-")
            answer = {"kind": "user", "name": user}
        else:
            raise requests.ConnectionError(f"{request.url}: no network in the test")
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = json.dumps(answer).encode()
        return response

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]


def run_worker(argv: list[str]) -> dict[str, Any]:
    """`conda-store-worker --config ...` up to its Celery worker loop, then its start-up tasks."""
    import celery

    from conda_store_server import api
    from conda_store_server._internal.worker.__main__ import main

    out: dict[str, Any] = {}

    def worker_main(app: Any, celery_argv: list[str]) -> None:
        out["celery_argv"] = celery_argv
        app.loader.import_default_modules()
        # The tasks the worker sends itself when ready (tasks.at_start), as the worker runs them.
        for task in ("task_initialize_worker", "task_watch_paths"):
            app.tasks[task].apply(throw=True)
        conda_store = app.tasks["task_watch_paths"].worker.conda_store
        out["watch_paths"] = app.tasks["task_watch_paths"].worker.watch_paths
        with conda_store.get_db() as db:
            environments = [{"namespace": e.namespace.name, "name": e.name,
                             "build_status": e.current_build.status.value if e.current_build else None}
                            for e in api.list_environments(db)]
        out["environments"] = sorted(environments, key=lambda e: (e["namespace"], e["name"]))

    celery.Celery.worker_main = worker_main  # type: ignore[method-assign]
    # Started with the server, it imports meanwhile; it runs once the server listens (the server
    # creates the database tables the worker's tasks use).
    sys.stdin.readline()
    sys.argv = argv
    main()
    return out


def run_server(scenario: dict[str, Any]) -> dict[str, Any]:
    """`conda-store-server --config ...` with its worker, then the scenario's requests."""
    # Popen, not subprocess.run: conda-lock's vendored poetry replaces subprocess.run at import.
    worker = subprocess.Popen([sys.executable, __file__, "worker", *scenario["worker"]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    import uvicorn
    from fastapi.testclient import TestClient

    from conda_store_server._internal.server.__main__ import main
    from conda_store_server._internal.server.app import CondaStoreServer

    out: dict[str, Any] = {"hub_requests": []}
    _fake_hub(out["hub_requests"])
    loaded: dict[str, Any] = {}

    def load_instead_of_serving(server: Any, sockets: Any = None) -> None:
        config = server.config
        out["uvicorn"] = {"app": config.app, "host": config.host, "port": config.port,
                          "proxy_headers": config.proxy_headers, "forwarded_allow_ips": config.forwarded_allow_ips}
        config.load()  # imports the factory and calls it, as uvicorn does before it listens
        loaded["app"] = config.loaded_app
        server.started = True
        stdout, _ = worker.communicate("listening\n", timeout=120)
        if worker.returncode != 0:
            # The server's thread waiting for a ready worker would never end: stop here.
            sys.stderr.write(f"the worker failed ({worker.returncode})\n")
            sys.stderr.flush()
            os._exit(1)
        out["worker"] = json.loads(stdout)

    original_check = CondaStoreServer._check_worker
    uvicorn.Server.run = load_instead_of_serving  # type: ignore[method-assign]
    CondaStoreServer._check_worker = lambda self, delay=5: original_check(self, delay=0.05)  # type: ignore[method-assign]
    sys.argv = scenario["server"]
    main()
    out["worker_seen_ready"] = True  # main() returns only once the server has seen the worker ready
    app = loaded["app"]

    prefix = scenario["url_prefix"]
    out["anonymous"] = {}
    for method, path, *body in scenario["anonymous"]:
        response = TestClient(app).request(method, path, json=body[0] if body else None, follow_redirects=False)
        out["anonymous"][f"{method} {path}"] = {"status": response.status_code, "body": response.text[:300]}

    out["logins"] = {}
    restarted = CondaStoreServer.create_webserver()  # a second server process with the same config
    for user in scenario["logins"]:
        client = TestClient(app)
        login = client.get(f"{prefix}/login/", params={"next": f"{prefix}/"}, follow_redirects=False)
        location = login.headers.get("location", "")
        state = parse_qs(urlsplit(location).query).get("state", [""])[0]
        callback = client.get(f"{prefix}/oauth_callback/", params={"code": user, "state": state}, follow_redirects=False)
        cookie = client.cookies.get("conda-store-auth")
        result: dict[str, Any] = {"login_status": login.status_code, "login_location": location,
                                  "callback_status": callback.status_code, "got_cookie": cookie is not None}
        if cookie is not None:
            result["permission"] = client.get(f"{prefix}/api/v1/permission/").json()["data"]
            result["environments"] = sorted(
                f"{e['namespace']['name']}/{e['name']}"
                for e in client.get(f"{prefix}/api/v1/environment/").json()["data"])
            after_restart = TestClient(restarted, cookies={"conda-store-auth": cookie})
            result["permission_after_restart"] = after_restart.get(f"{prefix}/api/v1/permission/").json()["data"]
        out["logins"][user] = result
    return out


def main() -> None:
    sys.meta_path.insert(0, _CondaStandIn())
    stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # conda-store prints; stdout carries only the result
        if sys.argv[1:2] == ["worker"]:
            result = run_worker(sys.argv[2:])
        else:
            result = run_server(json.load(sys.stdin))
    json.dump(result, stdout, default=str)


if __name__ == "__main__":
    main()
