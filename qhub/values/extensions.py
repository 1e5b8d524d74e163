"""Values of an extension chart (`helm_extensions`): its overrides, with its secrets set in.

Pure function: the QHub file's `overrides` and the secret values read from the stack's Pulumi
config, by `helm --set` style path, -> the release's values. The overrides are copied, never
changed, so the config model stays as loaded.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from qhub.config.extensions import split_values_path


def extension_values(overrides: Mapping[str, Any], secrets: Mapping[str, object]) -> dict[str, Any]:
    """`overrides` with each secret set at its values path (`auth.password`), creating the
    mappings on the way; the config already refused paths through anything but mappings."""
    values: dict[str, Any] = copy.deepcopy(dict(overrides))
    for path, secret in secrets.items():
        *parents, last = split_values_path(path)
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = secret
    return values
