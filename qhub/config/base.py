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

from qhub.config.errors import ConfigError, Issue, quote, shown

__all__ = ["ConfigError", "Issue", "Model", "Problem", "empty_list", "parse_dask_memory", "parse_quantity", "quote", "rule_error", "rules_error", "shown"]


class Model(BaseModel):
    """Base of every config section: unknown keys are errors, values are immutable."""

    # defer_build: sections are compiled once, inside QHubConfig's validator, not each on its own;
    # that halves the start-up time of `qhub validate`.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def empty_list() -> list[Any]:
    """A new empty list: the default_factory of list fields.

    Not `list` itself: pydantic asks every default factory for its signature, and a builtin's
    comes from parsing its text signature with tokenize's regular expression, which costs
    `qhub validate` 5-10 ms to compile at every start.
    """
    return []


class _Shown:
    """A value in a rule's message: quoted (`{value!r}`) or shown (`{value}`) at most ~60
    characters long and without raw control characters, whatever the file held."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return quote(self.value)

    def __str__(self) -> str:
        return shown(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec) if spec else str(self)


def rule_error(message: str, **context: Any) -> PydanticCustomError:
    """An error of a QHub rule, reported at the key path pydantic is validating.

    `message` is a str.format template over `context`: the template holds our own words, the
    context the values from the file, which are shown clipped and escaped (see _Shown).
    """
    text = message.format(**{key: _Shown(value) for key, value in context.items()})
    return PydanticCustomError("qhub_rule", "{text}", {"text": text})


Problem = tuple[tuple[str | int, ...], str]
"""One finding of a rule: the key path below the value being validated, and the message."""


def rules_error(problems: list[Problem]) -> PydanticCustomError:
    """Several findings of a rule that checks a whole section, each reported at its own key
    (`node_groups.user.max_nodes`), not at the section pydantic was validating."""
    text = "; ".join(message for _, message in problems)
    return PydanticCustomError("qhub_rule", "{text}", {"text": text, "problems": list(problems)})


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
