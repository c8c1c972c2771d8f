"""The exceptions bankml raises.

Every error a user can cause derives from :class:`BankmlError`, so a notebook can catch
them all at once; each also derives from the built-in it refines (``ValueError`` ...).
"""

from __future__ import annotations

__all__ = [
    "BankmlError",
    "SchemaError",
    "ConfigError",
    "PolicyError",
    "DataError",
    "NotFittedError",
    "ChecksumError",
    "EngineNotAvailableError",
    "ResourceLimitError",
    "RuleExportError",
    "FidelityError",
    "TrackingError",
    "PublishError",
]


class BankmlError(Exception):
    """Base class of every bankml error."""


class SchemaError(BankmlError, ValueError):
    """A table does not follow its documented contract.

    ``problems`` lists one :class:`bankml.schema.Problem` per offending column and check.
    """

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


class ConfigError(BankmlError, ValueError):
    """A configuration file or mapping is invalid (unknown key, wrong type, bad value)."""


class PolicyError(ConfigError):
    """A star policy is invalid (negative weight, thresholds not increasing, unknown category)."""


class DataError(BankmlError, ValueError):
    """Input data cannot be used as given (bad values, unknown codes, empty input)."""


class NotFittedError(BankmlError, ValueError):
    """An object was used before it was fitted."""


class ChecksumError(BankmlError):
    """A persisted file does not match its recorded checksum; it was not loaded."""


class EngineNotAvailableError(BankmlError, ImportError):
    """An optional engine was requested but its package is not installed."""


class ResourceLimitError(BankmlError, MemoryError):
    """A request was refused up front because it would exhaust memory or time."""


class RuleExportError(BankmlError, ValueError):
    """A model (or a step of a pipeline) cannot be turned into rules on the raw columns."""


class FidelityError(BankmlError, RuntimeError):
    """Exported rules disagree with the model they were drawn from; nothing was published."""


class TrackingError(BankmlError, RuntimeError):
    """The MLflow store or server is unusable; the message names the URI."""


class PublishError(BankmlError, RuntimeError):
    """Outputs or models cannot be published (the message names the path)."""
