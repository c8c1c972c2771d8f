"""The exceptions bankml raises, and the one rule for which is raised when.

Every error a user can cause derives from :class:`BankmlError`, so a notebook can catch
them all at once; each also derives from the built-in it refines (``ValueError`` ...).

Which error, by what was wrong:

- a bad **parameter** -- of an estimator (``InfoGainTreeClassifier(confidence=0.9)``, raised
  by ``fit`` from the estimator's own ``_parameter_constraints``) or a setting of a
  function (``lang="fr"``, ``abc(cuts=(0.9, 0.8))``, ``rfm(refunds="x")``): scikit-learn's
  :class:`InvalidParameterError` (a ``ValueError``; re-exported here, not subclassed, so
  that scikit-learn tooling such as ``GridSearchCV`` and the estimator checks keeps
  recognising it -- the one error that is not a :class:`BankmlError`);
- a bad **configuration file or key** (YAML, ``load_config``, a policy file):
  :class:`ConfigError` (:class:`PolicyError` for the star policy), naming the file and key;
  an estimator-backed config section is checked by that estimator's constraints and the
  result reported as a :class:`ConfigError` naming ``section.key``;
- bad **data** (a table, a column, a date): :class:`SchemaError` for the customer-table
  contract, :class:`DataError` otherwise, naming the column and ROW POSITIONS (never index
  labels, which often hold customer ids);
- an estimator used **before fit**: :class:`NotFittedError` (one class, which is also
  scikit-learn's ``NotFittedError``).
"""

from __future__ import annotations

__all__ = [
    "BankmlError",
    "InvalidParameterError",
    "SchemaError",
    "ConfigError",
    "PolicyError",
    "DataError",
    "NotFittedError",
    "ChecksumError",
    "ModelFileError",
    "EngineNotAvailableError",
    "ResourceLimitError",
    "RuleExportError",
    "FidelityError",
    "TrackingError",
    "PublishError",
    "check_is_fitted",
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


class ChecksumError(BankmlError):
    """A persisted file does not match its recorded checksum; it was not loaded."""


class ModelFileError(BankmlError, OSError):
    """A model file cannot be saved or loaded at the path given (missing, a folder, a file in
    the way, not a model); the message names the path."""


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


def _make_not_fitted_error():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(BankmlError, SklearnNotFittedError):
        """An object was used before it was fitted.

        Also scikit-learn's ``NotFittedError`` (itself a ``ValueError`` and
        ``AttributeError``), so ``except sklearn.exceptions.NotFittedError`` and
        ``except BankmlError`` both catch it.
        """

    NotFittedError.__module__ = __name__
    NotFittedError.__qualname__ = "NotFittedError"   # pickles as bankml.errors.NotFittedError
    return NotFittedError


def _invalid_parameter_error():
    from sklearn.utils._param_validation import InvalidParameterError

    return InvalidParameterError


# The two classes tied to scikit-learn are made on first use (PEP 562), so that
# `import bankml` and `bankml --help` do not pay for importing scikit-learn.
_LAZY = {"NotFittedError": _make_not_fitted_error,
         "InvalidParameterError": _invalid_parameter_error}


def __getattr__(name):
    if name in _LAZY:
        if name not in globals():      # made once: one class for everyone
            globals()[name] = _LAZY[name]()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_is_fitted(estimator, attributes=None) -> None:
    """scikit-learn's ``check_is_fitted``, raising bankml's :class:`NotFittedError`.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> check_is_fitted(DecisionTreeClassifier())
    Traceback (most recent call last):
    ...
    bankml.errors.NotFittedError: This DecisionTreeClassifier instance is not fitted yet...
    """
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted as _check

    try:
        _check(estimator, attributes)
    except SklearnNotFittedError as exc:
        ours = __getattr__("NotFittedError")
        if isinstance(exc, ours):
            raise
        raise ours(str(exc)) from None
