"""Exceptions raised by neuromem for problems the user can fix.

:class:`ConfigError` covers every bad value handed to an experiment or the command line (unknown
name, unknown key, wrong type, missing data folder); the CLI turns it into one line and exit
status 2. It subclasses :class:`ValueError`, so Python callers can catch either.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataNotFoundError", "BackendUnavailableError"]


class ConfigError(ValueError):
    """A configuration, option or argument the user gave is not acceptable."""


class DataNotFoundError(ConfigError, FileNotFoundError):
    """A data folder or file that an experiment needs is absent."""


class BackendUnavailableError(ConfigError, RuntimeError):
    """A simulator backend was asked for but cannot be used here."""
