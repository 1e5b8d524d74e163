"""The QHub config model and its loading. No Pulumi or cloud SDK is imported here.

Names are imported on first use (PEP 562), so a command that only reports issues or reads a
stack file does not pay for building the pydantic model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "ConfigError": "qhub.config.errors", "Issue": "qhub.config.errors",
    "read_document": "qhub.config.files", "stack_config_file": "qhub.config.files", "stack_settings": "qhub.config.files",
    "LoadedConfig": "qhub.config.load", "load_file": "qhub.config.load", "parse_config": "qhub.config.load",
    "PROVIDER_BLOCKS": "qhub.config.model", "Provider": "qhub.config.model", "QHubConfig": "qhub.config.model",
}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:
    from qhub.config.errors import ConfigError, Issue
    from qhub.config.files import read_document, stack_config_file, stack_settings
    from qhub.config.load import LoadedConfig, load_file, parse_config
    from qhub.config.model import PROVIDER_BLOCKS, Provider, QHubConfig


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'qhub.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
