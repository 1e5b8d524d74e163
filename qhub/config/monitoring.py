"""The `monitoring` block: Prometheus and Grafana for the platform (Nebari's key and shape).

Off unless the file turns it on, so a file that does not mention monitoring plans exactly as
before; `qhub init` writes it on. No Pulumi import: `qhub validate` stays fast.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from qhub.config.base import QUANTITY_HELP, Model, parse_quantity, rule_error

# Prometheus' duration syntax (model.ParseDuration): units from largest to smallest, each once,
# e.g. 15d, 2w, 1y, 36h, 1w3d. A retention of 0 would mean "the default", so it is refused.
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
# The smallest volume Prometheus is given: its write-ahead log alone takes a few hundred MiB.
MIN_STORAGE_BYTES = 2 * 2**30


class Monitoring(Model):
    """Prometheus and Grafana behind the hub's login, with dashboards of the platform."""

    enabled: bool = Field(False, description="Deploy Prometheus (kube-prometheus-stack) and Grafana at https://<domain>/monitoring/, logging in through the hub.")
    retention: str = Field("15d", description="How long Prometheus keeps samples, in its duration syntax (15d, 2w, 1y).")
    storage: str = Field("50Gi", description="Prometheus' volume; it grows in place, never shrinks (at least 2Gi).")

    @field_validator("retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        match = _DURATION.match(value)
        if not value or match is None or not any(match.groups()) or not any(int(part) for part in match.groups() if part):
            raise rule_error("{value!r} is not a Prometheus duration; expected e.g. 15d, 2w, 1y or 36h", value=value)
        return value

    @field_validator("storage", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        size = parse_quantity(value) if isinstance(value, str) else None
        if size is None:
            raise rule_error("{value!r} is not a size; expected " + QUANTITY_HELP, value=value)
        if size < MIN_STORAGE_BYTES:
            raise rule_error("{value!r} is too small for Prometheus; give at least 2Gi", value=value)
        return value
