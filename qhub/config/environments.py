"""The `environments` section: conda environments conda-store builds for everyone."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from qhub.config.base import Model, rule_error

# What a dependency may be, as conda's environment files allow it.
DEPENDENCY_FORMS = "a package spec like `numpy=2.1`, or `pip: [list of packages]`"


class PipDependencies(Model):
    """A `pip:` entry inside a conda dependency list."""

    pip: list[str] = Field(description="Packages pip installs into the environment.")


def _dependency_shape(value: Any) -> Any:
    # Checked before pydantic tries each form of the union, which would report one error per
    # form ("str: ...", "PipDependencies: ...") instead of saying what a dependency may be.
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["pip"]:
        packages = value["pip"]
        if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
            raise rule_error("`pip:` takes a list of packages, like `pip: [requests, rich==15.0.0]`; got {value!r}", value=packages)
        return value
    if isinstance(value, dict) and len(value) == 1:
        raise rule_error("`{key}:` is not a kind of dependency; expected " + DEPENDENCY_FORMS, key=next(iter(value)))
    raise rule_error("{value!r} is not a dependency; expected " + DEPENDENCY_FORMS, value=value)


Dependency = Annotated[str | PipDependencies, BeforeValidator(_dependency_shape)]


class Environment(Model):
    """A conda environment file."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")] = Field(description="Environment name (the kernel name in JupyterLab).")
    channels: list[str] = Field(default_factory=lambda: ["conda-forge"], description="Conda channels, in priority order.")
    dependencies: list[Dependency] = Field(description="Conda packages, with an optional `pip:` list.")


EnvironmentFileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$")]
