"""Shared pieces of the config model: the strict base class, issues, and value checks.

Nothing in qhub/config imports Pulumi or a cloud SDK: `qhub validate` must stay fast and
offline.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from qhub.config.errors import ConfigError, Issue

__all__ = ["ConfigError", "Issue", "Model", "parse_dask_memory", "parse_quantity", "rule_error"]


class Model(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    # defer_build: sections are compiled once, inside QHubConfig's validator, not each on its own;
    # that halves the start-up time of `qhub validate`.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def rule_error(message: str, nested: bool = False, **context: Any) -> PydanticCustomError:
    """An error of a QHub rule, reported at the key path pydantic is validating.

    `message` is a str.format template over `context`. With `nested`, the text is several lines
    of `relative.path: message`, each reported as its own issue below that key path.
    """
    text = message.format(**context)
    return PydanticCustomError("qhub_rule", "{text}", {"text": text, "nested": nested})


# Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), as storage sizes and
# memory are written. Decimal suffixes are powers of 1000, binary ones powers of 1024.
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$")
_FACTORS = {
    None: 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def parse_quantity(text: str) -> Decimal | None:
    """The number of bytes a Kubernetes quantity stands for, or None when it is not one."""
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    try:
        return Decimal(match["number"]) * _FACTORS[match["suffix"]]
    except InvalidOperation:
        return None


def parse_dask_memory(text: str | int | float) -> Decimal | None:
    """Bytes of a dask-gateway memory option: dask-gateway reads `4G` as 4 * 2**30."""
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    match = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?)?B?$", text.strip(), re.IGNORECASE)
    if not match:
        return None
    power = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}[(match[2] or "")[:1].upper()]
    return Decimal(match[1]) * (1024**power)


QUANTITY_HELP = "a Kubernetes quantity such as 10Gi, 500Mi or 1Ti"
