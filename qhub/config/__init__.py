"""The QHub config model and its loading. No Pulumi or cloud SDK is imported here."""

from qhub.config.base import ConfigError, Issue
from qhub.config.load import LoadedConfig, load_file, parse_config, read_document, stack_config_file
from qhub.config.model import PROVIDER_BLOCKS, Provider, QHubConfig

__all__ = [
    "PROVIDER_BLOCKS", "ConfigError", "Issue", "LoadedConfig", "Provider", "QHubConfig",
    "load_file", "parse_config", "read_document", "stack_config_file",
]
