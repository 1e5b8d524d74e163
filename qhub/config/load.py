"""Reading a QHub file (or a stack's) into a validated QHubConfig, with every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qhub.config.errors import ConfigError, Issue, quote
from qhub.config.files import parse_document, read_document, read_text, stack_config_file, stack_settings
from qhub.config.model import QHubConfig
from qhub.config.warnings import collect_warnings


@dataclass(frozen=True)
class LoadedConfig:
    """A valid config and what validation had to say about it short of an error."""

    config: QHubConfig
    warnings: list[Issue]
    source: str


def parse_config(document: dict[str, Any], source: str = "<config>") -> LoadedConfig:
    """Validate a parsed QHub document; raises ConfigError listing every error."""
    non_text = [key for key in document if not isinstance(key, str)]
    if non_text:
        raise ConfigError(source, [Issue(f"[{quote(key)}]", "keys must be text, like project_name") for key in non_text])
    try:
        config = QHubConfig.model_validate(document)
    except ValidationError as error:
        from qhub.config.issues import issues_from  # only needed when something is wrong

        raise ConfigError(source, issues_from(error, QHubConfig)) from None
    return LoadedConfig(config, collect_warnings(config), source)


# The text last loaded and its result. `qhub plan` validates the file, then runs the program,
# which loads the same file again in the same process; with 10,000 users parsing the YAML takes
# about a second. The result depends on the text alone (and QHubConfig is frozen), so the same
# text gives the same config, whatever path it was read from.
_last_loaded: tuple[str, LoadedConfig] | None = None


def load_file(path: Path) -> LoadedConfig:
    """Read and validate one QHub file."""
    text = read_text(path)
    if _last_loaded is not None and _last_loaded[0] == text:
        return replace(_last_loaded[1], source=str(path))
    return load_document(text, parse_document(text, str(path)), str(path))


def load_document(text: str, document: dict[str, Any], source: str) -> LoadedConfig:
    """Validate the document parsed from `text` (read from `source`), remembering the result so
    that loading the same text again in this process costs nothing."""
    global _last_loaded
    loaded = parse_config(document, source)
    _last_loaded = (text, loaded)
    return loaded


__all__ = ["LoadedConfig", "load_document", "load_file", "parse_config", "read_document", "stack_config_file", "stack_settings"]
