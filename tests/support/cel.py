"""A CRD's CEL validation rules (`x-kubernetes-validations`), evaluated with cel-python.

The API server evaluates each rule with `self` bound to the value at the schema node carrying
it, and refuses the object when a rule is false or fails to evaluate (a missing field it reads,
a type error). cel-python is a full implementation of the CEL language the rules are written in;
the rules in the pinned charts' CRDs use only the standard macros and functions (has, all,
exists, filter, size, contains, in), none of Kubernetes' own library functions. Transition
rules (those reading `oldSelf`) apply to updates only, so a created object skips them, as on
the server.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import celpy
from celpy.evaluation import CELEvalError

_OLD_SELF = re.compile(r"\boldSelf\b")


@functools.cache
def _program(rule: str) -> celpy.Runner:
    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def failures(rules: Sequence[Mapping[str, Any]], value: Any) -> list[str]:
    """The messages of the rules a newly created value breaks."""
    found = []
    for rule in rules:
        expression = rule["rule"]
        if _OLD_SELF.search(expression):
            continue
        message = rule.get("message") or f"failed rule: {expression}"
        try:
            result = _program(expression).evaluate({"self": celpy.json_to_cel(value)})
        except CELEvalError as error:
            found.append(f"{message} (the rule fails to evaluate: {error.args[0]})")
            continue
        if isinstance(result, CELEvalError):
            found.append(f"{message} (the rule fails to evaluate: {result.args[0]})")
        elif not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            found.append(message)
    return found
