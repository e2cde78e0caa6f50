"""The exception hierarchy: every error Promethium raises on purpose derives from PromethiumError."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DataError",
    "FormatError",
    "GeometryError",
    "OutputExistsError",
    "ParameterError",
    "PromethiumError",
    "PromethiumWarning",
    "StorageError",
    "UnsupportedFormatError",
]


class PromethiumError(Exception):
    """Base class of every error raised by Promethium."""


class ConfigurationError(PromethiumError):
    """A setting or parameter is invalid."""


class StorageError(PromethiumError):
    """A file or object could not be read from or written to its location."""


class OutputExistsError(StorageError):
    """The output of a conversion already exists and replacing it was not asked for.

    Its own class so that callers can tell "pick another name or allow overwriting" (an HTTP 409, a
    ``--overwrite`` hint) from a storage failure.
    """


class FormatError(PromethiumError, ValueError):
    """A file is not valid in the format it claims (or was asked) to be.

    The message names the file, the byte offset where the problem was found and what is wrong.
    """

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None) -> None:
        self.path = path
        self.offset = offset
        self.reason = message
        parts = []
        if path is not None:
            parts.append(str(path))
        if offset is not None:
            parts.append(f"byte {offset}")
        prefix = ": ".join([", ".join(parts)]) if parts else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnsupportedFormatError(FormatError):
    """The content matches no supported format."""


class ParameterError(PromethiumError, ValueError):
    """A parameter of an operation is outside what the operation accepts.

    ``parameter`` names it and ``allowed`` says what would be accepted (a range, a list of choices), so
    that the CLI, the API and the workflow validator can all point at the faulty value.
    """

    def __init__(self, parameter: str, message: str, *, allowed: str | None = None) -> None:
        self.parameter = parameter
        self.allowed = allowed
        self.reason = message
        text = f"{parameter}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class DataError(PromethiumError, ValueError):
    """Data an operation cannot take: empty, all dead, NaN/Inf samples, a mask of the wrong shape."""


class GeometryError(PromethiumError):
    """Trace headers do not describe the requested survey geometry."""


class PromethiumWarning(UserWarning):
    """Something was tolerated (and recorded) rather than refused."""
