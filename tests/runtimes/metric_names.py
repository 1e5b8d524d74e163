"""Prints, as a JSON list, the metric names a Python source of the platform's metrics exports.

    .venv-hub/bin/python metric_names.py jupyterhub
        every family JupyterHub 5.5 registers (jupyterhub.metrics, imported as the hub does) and
        the series names of its histograms (_bucket, _count, _sum);
    .venv-conda-store/bin/python metric_names.py conda-store
        what conda-store-server's /metrics prints (`conda_store_<key>` for each key of
        api.get_metrics), from its own function run on a database with a build in every status.

conda-store imports `conda`, which only conda installs: the conda-store driver's stand-in
modules serve it (tests/runtimes/conda_store_driver.py), as in the conda-store tests.
"""

from __future__ import annotations

import datetime
import json
import os
import sys


def jupyterhub() -> list[str]:
    import jupyterhub.metrics  # noqa: F401 - registers the hub's metrics
    from prometheus_client import REGISTRY

    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("jupyterhub_"):
            names.add(family.name)
            names.update(sample.name for sample in family.samples)
            if family.type == "histogram":
                names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
    return sorted(names)


def conda_store() -> list[str]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import conda_store_driver

    sys.meta_path.insert(0, conda_store_driver._CondaStandIn())
    from conda_store_server import api
    from conda_store_server._internal import orm
    from conda_store_server._internal.schema import BuildStatus
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_engine("sqlite://")
    orm.Base.metadata.create_all(engine)
    db = sessionmaker(bind=engine)()
    db.add(orm.CondaStoreConfiguration(free_storage=1, total_storage=2, disk_usage=1))
    when = datetime.datetime(2026, 1, 1)
    for status in BuildStatus:
        db.add(orm.Build(specification_id=1, environment_id=1, status=status, build_key_version=2, size=0,
                         status_info="", hash="", started_on=when, ended_on=when, deleted_on=when))
    db.commit()
    return sorted(f"conda_store_{key}" for key in api.get_metrics(db))


if __name__ == "__main__":
    print(json.dumps({"jupyterhub": jupyterhub, "conda-store": conda_store}[sys.argv[1]]()))
