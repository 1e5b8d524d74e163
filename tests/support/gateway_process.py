"""dask-gateway-server started the way its pods start it, then asked what users' requests make.

tests/support/gateway.py runs this file once per plan, where the plan's gateway container's
files (the rendered /etc/dask-gateway/, the service account's) are at their in-container paths
and its environment is set (tests/support/container.py; forked from a process that imported
the server once, tests/support/fork_server.py). Stdin holds the gateway container's command
line, the controller container's command line and files, a user and the requests to make. Then

1. the gateway starts from the container's command line: the command is resolved through its
   console-script entry point, as the image's shell would, and the application is initialised
   as that entry point (`DaskGateway.launch_instance`) does, short of `start()`. traitlets
   executes the rendered dask_gateway_config.py, and the authenticator and backend are built
   from it;
2. for each request, does what the backend's `start_cluster` does before it calls the
   Kubernetes API: cluster options -> cluster config -> the DaskCluster object;
3. starts the controller from its container's command line and config file (which reads no
   other file, so it sits at a temporary path: its container's mount of /etc/dask-gateway cannot
   share a mount namespace with the gateway's) and builds, from each DaskCluster, the scheduler
   and worker pods as its reconciler does (`make_pod` on the config stored in the object), the
   scheduler's Service and the Traefik routes.

Stdout: one line, RESULT_MARKER and the JSON result. Only the standard library and
dask_gateway_server are imported, as in the gateway image.
"""

import asyncio
import json
import logging
import os
import sys
import tempfile
from importlib.metadata import entry_points

RESULT_MARKER = "QHUB-GATEWAY-RESULT "
# What the gateway and controller import on their way to loading a config (see module doc).
SERVER_MODULES = ("dask_gateway_server.app", "dask_gateway_server.auth",
                  "dask_gateway_server.backends.kubernetes.backend",
                  "dask_gateway_server.backends.kubernetes.controller")


def _launch_class(command):
    """The Application class a console script of this name launches (`Class.launch_instance`)."""
    (entry,) = entry_points(group="console_scripts", name=command)
    return entry.load().__self__


def initialize(argv):
    """The application a container's command line makes, initialised but not started."""
    launched = _launch_class(argv[0])
    launched.clear_instance()
    app = launched.instance()
    app.initialize(argv[1:])
    return app.subapp or app


def _qualname(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def describe_gateway(app):
    auth = app.authenticator
    # log_level: traitlets keeps the configured level as a number.
    described = {"authenticator": _qualname(auth), "backend": _qualname(app.backend),
                 "log_level": logging.getLevelName(app.log_level)}
    if hasattr(auth, "jupyterhub_api_url"):
        described.update(
            api_url=auth.jupyterhub_api_url, api_token=auth.jupyterhub_api_token,
            service_name=auth.jupyterhub_service_name, service_access_scopes=auth.use_service_access_scopes,
        )
    return described


async def clusters_for(backend, user, requests):
    """For each request: the DaskCluster object start_cluster would create, or the refusal."""
    from dask_gateway_server.backends.base import PublicException

    made = []
    for request in requests:
        try:
            options, config = await backend.process_cluster_options(user, request)
        except PublicException as error:
            made.append({"request": request, "error": str(error)})
            continue
        cluster = backend.make_cluster_object(user.name, options, config)
        # The API server stores the object as JSON, in the namespace start_cluster names.
        cluster = json.loads(json.dumps(cluster))
        cluster["metadata"].update(namespace=config.namespace, uid=f"uid-{len(made)}")
        made.append({"request": request, "cluster": cluster})
    return made


def controller_objects(controller, cluster):
    """What the controller makes for one DaskCluster."""
    from dask_gateway_server.utils import FrozenAttrDict

    name = cluster["metadata"]["name"]
    namespace = cluster["metadata"]["namespace"]
    config = FrozenAttrDict(cluster["spec"]["config"])
    return {
        "scheduler": controller.make_pod(namespace, name, config),
        "worker": controller.make_pod(namespace, name, config, is_worker=True),
        "service": controller.make_service(name),
        "ingressroute": controller.make_ingressroute(name, namespace),
        "ingressroutetcp": controller.make_ingressroutetcp(name, namespace),
    }


def start_controller(argv, files, directory):
    """The controller from its container's command line, its files placed under `directory`."""
    placed = {}
    for path, text in files.items():
        target = os.path.join(directory, path.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as handle:
            handle.write(text)
        placed[path] = target
    return initialize([placed.get(arg, arg) for arg in argv])


def run_plan(given):
    """Steps 1-3 of the module doc for one plan, in this process."""
    from dask_gateway_server.models import User

    gateway = initialize(given["gateway"]["argv"])
    described = describe_gateway(gateway)
    if not hasattr(gateway.backend, "make_cluster_object"):
        # traitlets only logs a config file it cannot find, and the server starts on defaults.
        exists = os.path.exists(gateway.config_file)
        raise RuntimeError(f"dask-gateway-server runs {described['backend']} with {described['authenticator']}, "
                           f"not the chart's backend: its config file {gateway.config_file} "
                           + ("did not configure it" if exists else "is not there"))
    user = User(given["user"]["name"], groups=given["user"]["groups"])
    loop = asyncio.new_event_loop()
    options = loop.run_until_complete(gateway.backend.get_cluster_options(user))
    clusters = loop.run_until_complete(clusters_for(gateway.backend, user, given["requests"]))
    with tempfile.TemporaryDirectory() as directory:
        controller = start_controller(given["controller"]["argv"], given["controller"]["files"], directory)
        for made in clusters:
            if "cluster" in made:
                made.update(controller_objects(controller, made["cluster"]))
    return {"gateway": described, "cluster_options": options.get_specification(), "clusters": clusters}


def main():
    given = json.load(sys.stdin)
    sys.stdout.write(RESULT_MARKER + json.dumps(run_plan(given)) + "\n")


# Imported before main() so that a fork server has them imported before it forks.
for _module in SERVER_MODULES:
    __import__(_module)


if __name__ == "__main__":
    main()
