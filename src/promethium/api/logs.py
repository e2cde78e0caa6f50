"""Keep secrets out of the server's logs: uvicorn's access and error lines carry the request path with
its query string, so a ``token=`` (or ``access_token=``, ``refresh_token=``) there is replaced by
``token=[redacted]`` before the line is written. :func:`install_log_redaction` attaches the filter to
uvicorn's loggers (idempotent; :func:`promethium.api.create_app` calls it)."""

from __future__ import annotations

import logging
import re

__all__ = ["RedactTokens", "install_log_redaction", "redact"]

_SECRET_PARAM = re.compile(r"(?i)((?:^|[?&;\s])[a-z_]*token=)[^&\s\"']+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn")


def redact(text: str) -> str:
    """``text`` with the value of every ``...token=`` query parameter replaced."""
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
