"""Settings, logging and the exception hierarchy shared by every part of Promethium."""

from promethium.core.errors import (
    ConfigurationError,
    FormatError,
    GeometryError,
    PromethiumError,
    PromethiumWarning,
    StorageError,
    UnsupportedFormatError,
)
from promethium.core.logging import configure_logging, get_logger
from promethium.core.settings import Settings, get_settings, override_settings, reload_settings

__all__ = [
    "ConfigurationError",
    "FormatError",
    "GeometryError",
    "PromethiumError",
    "PromethiumWarning",
    "Settings",
    "StorageError",
    "UnsupportedFormatError",
    "configure_logging",
    "get_logger",
    "get_settings",
    "override_settings",
    "reload_settings",
]
