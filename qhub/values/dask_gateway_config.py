"""Cluster options of dask-gateway: the code the gateway runs, as the chart's `gateway.extraConfig`.

The chart appends this file's source to its dask_gateway_config.py, where `c` is the traitlets
config. Nothing in it is templated: what it configures comes as JSON in the environment
variable SETTINGS_ENV, built by qhub.values.dask_gateway.gateway_settings. Tests import it and
run it against the real dask-gateway-server package.

Only the standard library and dask_gateway_server may be imported here (the gateway image has
nothing else), and no `from __future__` import: the source is pasted mid-file.
"""

import json
import os

SETTINGS_ENV = "QHUB_DASK_GATEWAY_SETTINGS"


def qhub_cluster_overrides(settings, profile_name, environment_name):
    """KubeClusterConfig overrides for one worker profile and conda environment."""
    profile = settings["profiles"][profile_name]
    placement = settings["gpu_placement"] if profile["worker_gpus"] else settings["worker_placement"]
    volumes = settings["volumes"]
    mounts = settings["volume_mounts"]
    worker_container = {"volumeMounts": mounts}
    if profile["worker_gpus"]:
        worker_container["resources"] = {"limits": {"nvidia.com/gpu": profile["worker_gpus"]}}
    overrides = {
        "image": profile["image"],
        "worker_cores": profile["worker_cores"],
        "worker_cores_limit": profile["worker_cores_limit"],
        "worker_memory": profile["worker_memory"],
        "worker_memory_limit": profile["worker_memory_limit"],
        "worker_extra_pod_config": dict(placement, volumes=volumes),
        "worker_extra_container_config": worker_container,
        "scheduler_extra_pod_config": dict(settings["worker_placement"], volumes=volumes),
        "scheduler_extra_container_config": {"volumeMounts": mounts},
    }
    prefix = settings["environments"].get(environment_name) if environment_name else None
    if prefix:
        # Scheduler and workers run from the environment, so their dask versions match the
        # client's in a kernel of the same environment.
        overrides["scheduler_cmd"] = prefix + "/bin/dask-scheduler"
        overrides["worker_cmd"] = prefix + "/bin/dask-worker"
        overrides["environment"] = {"CONDA_PREFIX": prefix, "PATH": prefix + "/bin:" + settings["image_path"]}
    return overrides


def qhub_profile_label(settings):
    """The profile field's label, naming the GPU profiles: a Select shows only the option names,
    which stay the configured ones so `cluster_options(profile="GPU Worker")` keeps working."""
    gpus = ["%s: %d GPU" % (name, profile["worker_gpus"])
            for name, profile in settings["profiles"].items() if profile["worker_gpus"]]
    return "Worker profile (GPUs per worker: %s)" % ", ".join(gpus) if gpus else "Worker profile"


def qhub_cluster_options(settings):
    """The Options users choose from in Gateway.cluster_options()."""
    from dask_gateway_server.options import Options, Select

    profiles = list(settings["profiles"])
    fields = [Select("profile", profiles, default=settings["default_profile"], label=qhub_profile_label(settings))]
    environments = list(settings["environments"])
    if environments:
        fields.append(Select("conda_environment", environments, default=settings["default_environment"],
                             label="Conda environment"))

    def handler(options, user):
        return qhub_cluster_overrides(settings, options.profile, getattr(options, "conda_environment", None))

    return Options(*fields, handler=handler)


def qhub_configure(c, settings):
    """Apply the settings to a dask-gateway traitlets config."""
    c.Backend.cluster_options = qhub_cluster_options(settings)
    c.KubeClusterConfig.idle_timeout = settings["idle_timeout_seconds"]
    c.KubeClusterConfig.cluster_max_workers = settings["cluster_max_workers"]


if "c" in globals() and SETTINGS_ENV in os.environ:  # running inside the gateway's config file
    qhub_configure(c, json.loads(os.environ[SETTINGS_ENV]))  # noqa: F821 - `c` comes from the chart
