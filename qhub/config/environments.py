"""The `environments` section: conda environments conda-store builds for everyone."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from qhub.config.base import Model


class PipDependencies(Model):
    """A `pip:` entry inside a conda dependency list."""

    pip: list[str] = Field(description="Packages pip installs into the environment.")


class Environment(Model):
    """A conda environment file."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = Field(description="Environment name (the kernel name in JupyterLab).")
    channels: list[str] = Field(default_factory=lambda: ["conda-forge"], description="Conda channels, in priority order.")
    dependencies: list[str | PipDependencies] = Field(description="Conda packages, with an optional `pip:` list.")


EnvironmentFileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$")]
