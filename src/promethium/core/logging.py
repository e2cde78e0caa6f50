"""Logging set-up, applied only when an entry point (CLI, server, worker) asks for it."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from promethium.core.settings import get_settings

__all__ = ["configure_logging", "get_logger"]

_HANDLER_NAME = "promethium"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``promethium`` hierarchy (no handler is attached here)."""
    return logging.getLogger(name if name.startswith("promethium") else f"promethium.{name}")


def configure_logging(level: str | None = None, fmt: str | None = None) -> None:
    """Attach one stderr handler to the ``promethium`` logger (idempotent)."""
    settings = get_settings()
    root = logging.getLogger("promethium")
    root.setLevel(level or settings.log_level)
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if (fmt or settings.log_format) == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.propagate = False
