"""dns.resource_group is checked in two cheap parts (qhub/config/dns.py: the pattern without its
bound, then the length) because pydantic-core takes 50 ms to compile the bounded pattern. The
reference here is pydantic-core itself checking the bounded pattern, as `Field(pattern=...)`
did: both must accept the same names and report the same errors."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import StringConstraints, TypeAdapter, ValidationError

from qhub.config.dns import _RESOURCE_GROUP, ResourceGroupName

REFERENCE = TypeAdapter(Annotated[str, StringConstraints(pattern=_RESOURCE_GROUP)])
CHECKED = TypeAdapter(ResourceGroupName)


def _outcome(adapter: TypeAdapter[str], value: Any) -> object:
    try:
        return ("valid", adapter.validate_python(value))
    except ValidationError as error:
        return ("invalid", error.errors(include_url=False))


def _differences(values: list[Any]) -> list[tuple[Any, object, object]]:
    return [(value, _outcome(REFERENCE, value), _outcome(CHECKED, value))
            for value in values if _outcome(REFERENCE, value) != _outcome(CHECKED, value)]


def test_every_character_last_and_inside_a_name() -> None:
    # `.` may stand inside a name but not last; every other character is allowed in both places
    # or neither. All of the Basic Multilingual Plane and a sample of the others.
    characters = [chr(point) for point in [*range(0x10000), *range(0x10000, 0x110000, 61)]]
    assert _differences([c for character in characters for c in (character, character + "a")]) == []


@pytest.mark.parametrize("filler", ["a", "é", "名", "_", "(", "-", "."])
def test_lengths_around_the_bound(filler: str) -> None:
    # At most 90 characters (code points, not bytes), whatever they are.
    assert _differences([filler * n + end for n in range(0, 120) for end in ("", "a", ".")]) == []


def test_what_is_not_a_name() -> None:
    assert _differences([None, 5, 1.5, True, [], {}, ["a"], b"rg", b"\xff", "x\n", "\n", "a b", "a\u0000"]) == []


def test_schema_shows_the_bounded_pattern() -> None:
    assert CHECKED.json_schema() == REFERENCE.json_schema() == {"type": "string", "pattern": _RESOURCE_GROUP}
