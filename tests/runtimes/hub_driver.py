"""The hub as the hub pod runs it: log users in, then build the pod of every profile they spawn.

Run with the hub image's Python (.venv-hub) inside the hub container's files
(tests/support/container.py lays them out at their in-container paths), from the hub's working
directory. Reads a job (JSON) on stdin, writes one report (JSON) on stdout; everything the hub
logs goes to stderr. Nothing here knows QHub: it drives JupyterHub 5.5.0, KubeSpawner 7.0.0
and OAuthenticator as they are.

1. The JupyterHub application is initialized from the container's own command line
   (`jupyterhub --config /usr/local/etc/jupyterhub/jupyterhub_config.py --upgrade-db`), so the
   chart's jupyterhub_config.py loads the chart values, the Secret's files and every file of
   jupyterhub_config.d unchanged, and JupyterHub itself checks services, roles, groups, admin and
   allowed users, with a fresh SQLite database in the working directory.
2. The hub's web application is served on a loopback port and a small browser logs each user
   in through the authenticator's own pages: the OAuth redirect and callback (GitHub, Auth0),
   or the login form (shared password).
3. For each logged-in user the spawn page is fetched (the profiles the user is offered); then
   each user spawns every profile anyone is offered (those not offered to them must be refused),
   and `User.spawn` runs for real: the hub's own spawn order
   (pre_spawn_start, auth state hook, group overrides, apply_user_options, pre_spawn_hook,
   KubeSpawner.start: load_user_options, get_pod_manifest, modify_pod_hook) up to the request
   that creates the pod.
4. For each service login the job names (a platform service that logs users in through the hub,
   as Grafana does with generic_oauth), a user logs in to the hub, then the hub's OAuth provider
   is driven as the service drives it: the browser at the authorize URL with the service's
   client id, redirect URI and a PKCE challenge, then the service's own requests for the token
   (client secret in the form) and for the user's model with that token.

Two boundaries are faked, and only these (each class below says why):
- the identity provider's HTTP answers (FakeIdentityProvider, the authenticator's HTTP client);
- the Kubernetes API server (FakeKubernetesAPI, an HTTP server on loopback that KubeSpawner's
  own client talks to): it lists no pods, holds watches open, and records the pod a spawn
  creates, then refuses it, which ends the spawn before the hub would wait for a running pod.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import secrets
import sys
import traceback
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from aiohttp import web
from jupyterhub import orm
from jupyterhub.app import JupyterHub
from jupyterhub.utils import maybe_future
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import kube_config
from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.simple_httpclient import SimpleAsyncHTTPClient

# Imported here so that a fork server (tests/runtimes/fork_server.py) has imported them before
# it forks: the chart's config imports the spawner and the authenticators.
import kubespawner  # noqa: F401
import oauthenticator.auth0  # noqa: F401
import oauthenticator.github  # noqa: F401

# What replaces a token in the report: tokens are secrets, the report is a test log.
REDACTED = "[redacted]"
TOKEN_ENV = ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN")
# The status the fake API answers a pod creation with, so the spawn stops there.
REFUSED = 403


class FakeKubernetesAPI:
    """The Kubernetes API server, as far as a spawn needs it, on 127.0.0.1.

    Faked because there is no cluster here. KubeSpawner's real client (kubernetes_asyncio)
    sends its real requests: the pod and event reflectors list (nothing is running) and watch
    (held open until they time out), and the spawn's pod creation is recorded as sent and
    answered 403, so KubeSpawner.start raises and the hub cleans up as after any failed spawn.
    Any other request is recorded as unexpected and answered 404.
    """

    def __init__(self, on_create: Any) -> None:
        self.on_create = on_create
        self.unexpected: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.closing = asyncio.Event()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.handle)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        os.makedirs(os.path.dirname(os.environ["KUBECONFIG"]), exist_ok=True)
        with open(os.environ["KUBECONFIG"], "w") as file:
            json.dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "test",
                "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                "users": [{"name": "test", "user": {"token": "test-kubernetes-token"}}],
                "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test", "namespace": "default"}}],
            }, file)

    async def stop(self) -> None:
        self.closing.set()  # ends the open watches now, or cleanup would wait for their timeouts
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        # /api/v1/namespaces/<namespace>/<kind>
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] in ("pods", "events"):
            kind = parts[4]
            if request.method == "GET" and request.query.get("watch") in ("true", "True", "1"):
                return await self._watch(request)
            if request.method == "GET":
                return web.json_response({"kind": "PodList" if kind == "pods" else "EventList", "apiVersion": "v1",
                                          "metadata": {"resourceVersion": "1"}, "items": []})
            if request.method == "POST" and kind == "pods":
                self.on_create(parts[3], await request.json())
                return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": REFUSED,
                                          "reason": "Forbidden", "message": "the test's Kubernetes API records pods, it creates none"},
                                         status=REFUSED)
        self.unexpected.append(f"{request.method} {request.path_qs}")
        return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}, status=404)

    async def _watch(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        # No events: the stream stays open for the watch's own timeout, or until the API stops.
        try:
            await asyncio.wait_for(self.closing.wait(), float(request.query.get("timeoutSeconds", "30")))
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        return response


class FakeIdentityProvider:
    """The identity provider's HTTP answers, put where OAuthenticator sends its requests (its
    `http_client`), and nothing else of the login is changed.

    Faked because GitHub and Auth0 cannot be reached. The code the browser brings back from the
    authorize page is exchanged for an access token (OAuthenticator's POST to its token_url) and
    the token for the user's information (its GET of userdata_url); `identities` maps each code to
    the information the provider would return. Each request is recorded as it was sent.
    """

    def __init__(self, client_secret: str | None) -> None:
        self.identities: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self._client_secret = client_secret

    async def fetch(self, request: HTTPRequest, raise_error: bool = True, **_: Any) -> HTTPResponse:
        if request.method == "POST":
            form = {k: v[0] for k, v in parse_qs((request.body or b"").decode()).items()}
            self.requests.append({
                "method": "POST", "url": request.url, "code": form.get("code"),
                "client_id": form.get("client_id"), "redirect_uri": form.get("redirect_uri"),
                # Whether the secret sent is the one in the hub's environment, never the secret.
                "client_secret_from_env": self._client_secret is not None and form.get("client_secret") == self._client_secret,
            })
            if form.get("code") not in self.identities:
                return self._answer(request, 401, {"error": "bad_verification_code", "error_description": "unknown code"}, raise_error)
            return self._answer(request, 200, {"access_token": f"access-{form['code']}", "token_type": "bearer", "scope": ""}, raise_error)
        token = (request.headers.get("Authorization") or "").split(" ")[-1]
        self.requests.append({"method": "GET", "url": request.url.split("?")[0]})
        code = token.removeprefix("access-")
        if code not in self.identities:
            return self._answer(request, 401, {"message": "Bad credentials"}, raise_error)
        return self._answer(request, 200, self.identities[code], raise_error)

    @staticmethod
    def _answer(request: HTTPRequest, code: int, body: dict[str, Any], raise_error: bool) -> HTTPResponse:
        response = HTTPResponse(request, code, headers=None, buffer=BytesIO(json.dumps(body).encode()))
        if raise_error and code >= 400:
            raise HTTPClientError(code, response=response)
        return response


class _Inputs(HTMLParser):
    """A page's form inputs, each with the text of the first <h3> after it (the spawn page puts
    a profile's display name there)."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, Any]] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append({**dict(attrs), "heading": None})
        self._in_heading = tag == "h3" and bool(self.inputs) and self.inputs[-1]["heading"] is None

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3":
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.inputs[-1]["heading"] = (self.inputs[-1]["heading"] or "") + data

    @classmethod
    def parse(cls, html: str) -> list[dict[str, Any]]:
        parser = cls()
        parser.feed(html)
        return parser.inputs


class Browser:
    """A user's browser: keeps cookies, does not follow redirects."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.client = SimpleAsyncHTTPClient(force_instance=True)

    async def request(self, path: str, method: str = "GET", form: dict[str, str] | None = None) -> HTTPResponse:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = await self.client.fetch(self.base_url + path, method=method, body=body, headers=headers,
                                           follow_redirects=False, raise_error=False)
        for header in response.headers.get_list("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def close(self) -> None:
        self.client.close()


async def oauth_login(browser: Browser, idp: FakeIdentityProvider, code: str, identity: dict[str, Any]) -> dict[str, Any]:
    """The OAuth login: /hub/oauth_login redirects to the provider with a state, the provider
    redirects back to /hub/oauth_callback with a code and that state."""
    start = await browser.request("/hub/oauth_login?next=%2Fhub%2Fhome")
    if start.code != 302:
        return {"status": start.code, "step": "oauth_login"}
    authorize = urlparse(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    idp.identities[code] = identity
    callback = await browser.request("/hub/oauth_callback?" + urlencode({"code": code, "state": query.get("state", "")}))
    return {
        "status": callback.code,
        "authorize": {"url": f"{authorize.scheme}://{authorize.netloc}{authorize.path}", "client_id": query.get("client_id"),
                      "redirect_uri": query.get("redirect_uri"), "scope": query.get("scope")},
        "token_requests": [r for r in idp.requests if r.get("code") == code],
    }


async def password_login(browser: Browser, username: str, password: str) -> dict[str, Any]:
    """The login form: GET /hub/login for its _xsrf field, then POST it with the credentials."""
    page = await browser.request("/hub/login")
    xsrf = next((i.get("value") for i in _Inputs.parse(page.body.decode()) if i.get("name") == "_xsrf"), None) or ""
    done = await browser.request("/hub/login", "POST", {"username": username, "password": password, "_xsrf": xsrf})
    return {"status": done.code}


def offered_profiles(html: str) -> list[dict[str, Any]]:
    """The profile choices of the spawn page, in its order: slug, display name, preselected."""
    return [{"slug": i.get("value"), "display_name": (i["heading"] or "").strip(), "default": "checked" in i}
            for i in _Inputs.parse(html) if i.get("name") == "profile" and i.get("type") == "radio"]


def redact(pod: dict[str, Any]) -> dict[str, Any]:
    for container in pod.get("spec", {}).get("containers", []):
        for item in container.get("env") or []:
            if item.get("name") in TOKEN_ENV:
                item["value"] = REDACTED
    return pod


class RedactTokens(logging.Filter):
    """Replaces the server tokens of the test's spawns in the hub's log lines: KubeSpawner logs
    the whole pod, environment included, when the API refuses to create it."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(token in message for token in self.tokens):
            for token in self.tokens:
                message = message.replace(token, REDACTED)
            record.msg, record.args = message, None
        return True


class Spawns:
    """Pods the fake API received, with the scopes of the server token each one carries
    (looked up while the token exists: the hub deletes it when the failed spawn is cleaned up)."""

    def __init__(self, app: JupyterHub) -> None:
        self.app = app
        self.created: list[dict[str, Any]] = []
        self.redact = RedactTokens()

    def record(self, namespace: str, pod: dict[str, Any]) -> None:
        env = {e["name"]: e.get("value") for c in pod["spec"]["containers"] for e in c.get("env") or []}
        self.redact.tokens.update(v for k, v in env.items() if k in TOKEN_ENV and v)
        token = orm.APIToken.find(self.app.db, env.get("JUPYTERHUB_API_TOKEN") or "")
        self.created.append({"namespace": namespace, "pod": redact(pod),
                             "token_scopes": sorted(token.scopes) if token is not None else None})


async def spawn(app: JupyterHub, spawns: Spawns, name: str, slug: str) -> dict[str, Any]:
    """One spawn of `slug` by `name`, as the spawn form's POST starts it (options from the form
    by the spawner's own options_from_form, then User.spawn)."""
    user = app.users[orm.User.find(app.db, name)]
    spawner = user.get_spawner("", replace_failed=True)
    options = await maybe_future(spawner.run_options_from_form({"profile": [slug]}))
    spawns.created.clear()
    error: Exception | None = None
    try:
        await user.spawn("", options)
    except Exception as exc:
        error = exc
    # A spawn that built its pod ends at the fake API's refusal to create it, and only there.
    if spawns.created and isinstance(error, ApiException) and error.status == REFUSED:
        (created,) = spawns.created
        return created
    detail = "".join(traceback.format_exception_only(type(error), error)).strip() if error else "the spawn did not end"
    return {"error": detail}


async def log_in(app: JupyterHub, base_url: str, idp: FakeIdentityProvider, index: int, login: dict[str, Any],
                 users: dict[str, Any]) -> dict[str, Any]:
    """One login in a fresh browser; the first successful login of a user also fetches their
    spawn page (users[name]["offered"])."""
    name = login["user"]
    browser = Browser(base_url)
    try:
        if "password" in login:
            result = await password_login(browser, name, login["password"])
        else:
            result = await oauth_login(browser, idp, f"code-{index}", login["identity"])
        orm_user = orm.User.find(app.db, name)
        result["logged_in"] = result["status"] == 302 and orm_user is not None and "jupyterhub-hub-login" in browser.cookies
        if result["logged_in"] and orm_user is not None:
            result["admin"] = orm_user.admin
            result["groups"] = sorted(g.name for g in orm_user.groups)
            if name not in users:
                page = await browser.request("/hub/spawn")
                users[name] = {"spawn_page": page.code, "offered": offered_profiles(page.body.decode())}
        return result
    finally:
        browser.close()


async def _log_in_browser(browser: Browser, idp: FakeIdentityProvider, code: str, login: dict[str, Any]) -> dict[str, Any]:
    if "password" in login:
        return await password_login(browser, login["user"], login["password"])
    return await oauth_login(browser, idp, code, login["identity"])


async def service_login(app: JupyterHub, base_url: str, idp: FakeIdentityProvider, index: int,
                        login: dict[str, Any], service: dict[str, Any]) -> dict[str, Any]:
    """`login`'s user logs in to the hub, then to `service` through the hub's OAuth provider, as
    an OAuth client such as Grafana's generic_oauth does it; then the refusals: a redirect URI
    other than the service's, and a wrong client secret."""
    browser = Browser(base_url)
    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        hub_login = await _log_in_browser(browser, idp, f"service-code-{index}", login)
        if hub_login["status"] != 302 or "jupyterhub-hub-login" not in browser.cookies:
            return {"hub_login": hub_login["status"]}
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)

        def authorize_query(redirect_uri: str) -> str:
            return urlencode({"response_type": "code", "client_id": service["client_id"], "redirect_uri": redirect_uri,
                              "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})

        async def token_request(code: str, client_secret: str) -> HTTPResponse:
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": service["redirect_uri"],
                    "client_id": service["client_id"], "client_secret": client_secret, "code_verifier": verifier}
            return await client.fetch(base_url + service["token_path"], method="POST", body=urlencode(form),
                                      headers={"Content-Type": "application/x-www-form-urlencoded"}, raise_error=False)

        authorize = await browser.request(service["authorize_path"] + "?" + authorize_query(service["redirect_uri"]))
        location = urlparse(authorize.headers.get("Location", ""))
        back = {k: v[0] for k, v in parse_qs(location.query).items()}
        result: dict[str, Any] = {
            "hub_login": hub_login["status"],
            "authorize": {"status": authorize.code, "redirect": f"{location.scheme}://{location.netloc}{location.path}",
                          "state_kept": back.get("state") == state, "code_given": bool(back.get("code"))},
        }
        if not back.get("code"):
            return result
        wrong_secret = await token_request(back["code"], service["client_secret"] + "-wrong")
        token = await token_request(back["code"], service["client_secret"])
        result["wrong_secret_status"] = wrong_secret.code
        result["token"] = {"status": token.code}
        if token.code != 200:
            result["token"]["body"] = token.body.decode(errors="replace")[:500]
            return result
        answer = json.loads(token.body)
        access = orm.APIToken.find(app.db, answer["access_token"])
        result["token"].update({"token_type": answer.get("token_type"),
                                "scopes": sorted(access.scopes) if access is not None else None,
                                "client": access.oauth_client.identifier if access is not None and access.oauth_client else None})
        user = await client.fetch(base_url + service["user_path"], headers={"Authorization": f"Bearer {answer['access_token']}"},
                                  raise_error=False)
        result["user"] = {"status": user.code, "model": json.loads(user.body) if user.code == 200 else None}
        # The same code again (replayed), and an authorize request for another redirect URI.
        result["replayed_code_status"] = (await token_request(back["code"], service["client_secret"])).code
        elsewhere = await browser.request(service["authorize_path"] + "?" + authorize_query("https://elsewhere.example.invalid/callback"))
        result["other_redirect"] = {"status": elsewhere.code, "location": elsewhere.headers.get("Location")}
        return result
    finally:
        client.close()
        browser.close()


def hub_state(app: JupyterHub) -> dict[str, Any]:
    """What JupyterHub made of the configuration: its database after initialize."""
    db = app.db
    return {
        "authenticator": f"{type(app.authenticator).__module__}.{type(app.authenticator).__name__}",
        "services": {s.name: {"url": s.url or None, "oauth_client_id": s.oauth_client_id if s.oauth_client else None}
                     for s in app._service_map.values()},
        "groups": {g.name: sorted(u.name for u in g.users) for g in db.query(orm.Group)},
        "users": {u.name: {"admin": u.admin} for u in db.query(orm.User)},
        "allowed_users": sorted(app.authenticator.allowed_users),
        "admin_users": sorted(app.authenticator.admin_users),
    }


async def run(job: dict[str, Any]) -> dict[str, Any]:
    app = JupyterHub.instance()
    spawns = Spawns(app)
    kubernetes = FakeKubernetesAPI(spawns.record)
    await kubernetes.start()
    # Also the spawner's own setting for the API address, so no request can go to the
    # in-cluster address (KUBERNETES_SERVICE_HOST) even where a service account CA is mounted.
    await app.initialize([*job["argv"][1:], f"--KubeSpawner.k8s_api_host={kubernetes.url}"])
    report: dict[str, Any] = {"hub": hub_state(app), "logins": {}, "users": {}, "stale_users": {}}
    for handler in app.log.handlers:  # the hub's one log handler, which tornado's loggers share
        handler.addFilter(spawns.redact)

    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app.tornado_application, xheaders=True)
    server.add_sockets(sockets)
    base_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    idp = FakeIdentityProvider(os.environ.get("OAUTH_CLIENT_SECRET"))
    if hasattr(app.authenticator, "http_client"):  # OAuthenticator's; the shared password needs none
        setattr(app.authenticator, "http_client", idp)
    try:
        for index, login in enumerate(job["logins"]):
            report["logins"][login["label"]] = await log_in(app, base_url, idp, index, login, report["users"])
        # Every profile someone is offered, spawned by every user: those not offered to a user
        # must be refused by the hub, the others must give a pod.
        slugs = list(dict.fromkeys(p["slug"] for u in report["users"].values() for p in u["offered"]))
        for name, user in report["users"].items():
            user["spawns"] = {slug: await spawn(app, spawns, name, slug) for slug in slugs}
        # A user the hub's database knows but the configuration no longer lists (a stale
        # session, as if added before the list changed): the hub must not spawn them.
        for name in job.get("stale_users", []):
            stale = orm.User(name=name)
            app.db.add(stale)
            app.db.commit()
            app.users.add(stale)
            report["stale_users"][name] = {slug: await spawn(app, spawns, name, slug) for slug in slugs[:1]}
        # A scrape of the hub's metrics as Prometheus makes it, with its token and without.
        scraper = SimpleAsyncHTTPClient(force_instance=True)
        try:
            report["metrics_scrapes"] = {}
            for scrape in job.get("metrics_scrapes", []):
                answers = {}
                for label, headers in (("with_token", {"Authorization": f"Bearer {scrape['token']}"}), ("without_token", {})):
                    answer = await scraper.fetch(base_url + scrape["path"], headers=headers, raise_error=False)
                    answers[label] = {"status": answer.code, "families": sorted(
                        line.split()[2] for line in answer.body.decode(errors="replace").splitlines() if line.startswith("# TYPE "))}
                report["metrics_scrapes"][scrape["name"]] = answers
        finally:
            scraper.close()
        report["service_logins"] = {
            f"{service['name']}/{login['label']}": await service_login(app, base_url, idp, index, login, service)
            for service in job.get("service_logins", []) for index, login in enumerate(service["logins"])}
    finally:
        server.stop()
        await kubernetes.stop()
    report["kubernetes_unexpected"] = kubernetes.unexpected
    # Everyone the hub's database knows once the logins are done (a refused login adds nobody).
    report["known_users"] = sorted(u.name for u in app.db.query(orm.User))
    return report


def main() -> None:
    # The kubeconfig KubeSpawner's client falls back to: it names the fake API server once that
    # listens. Where kubernetes_asyncio looks for it, a path it fixed when it was imported:
    # $HOME/.kube/config of the importing process (the container's fresh home directory, or a
    # fork server's, which is emptied for each run), so nothing is left behind.
    os.environ["KUBECONFIG"] = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    job = json.load(sys.stdin)
    out = sys.stdout
    sys.stdout = sys.stderr  # z2jh's config prints what it loads; stdout carries only the report
    report = asyncio.run(run(job))
    out.write(json.dumps(report))
    out.flush()
    # Reflector tasks and clients of the hub's loop are gone with the loop; skip their finalizers.
    os._exit(0)


if __name__ == "__main__":
    main()
