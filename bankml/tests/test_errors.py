"""The one rule for error types (bankml/errors.py): one NotFittedError, sklearn's parameter error."""

import pytest
import sklearn.exceptions
from sklearn.utils._param_validation import InvalidParameterError as SklearnInvalidParameterError

from bankml import errors
from bankml.errors import BankmlError, InvalidParameterError, NotFittedError


def test_invalid_parameter_error_is_sklearns_own_class():
    # re-exported, not a look-alike: GridSearchCV and the estimator checks recognise it
    assert InvalidParameterError is SklearnInvalidParameterError


def test_not_fitted_error_is_one_class_for_bankml_and_sklearn():
    assert issubclass(NotFittedError, BankmlError)
    assert issubclass(NotFittedError, sklearn.exceptions.NotFittedError)


@pytest.mark.parametrize("make", [
    lambda: __import__("bankml.tree", fromlist=["x"]).InfoGainTreeClassifier().predict([[1]]),
    lambda: __import__("bankml.outliers", fromlist=["x"]).IsolationForestDetector().predict([[1]]),
    lambda: __import__("bankml.segment", fromlist=["x"]).CustomerSegmenter().predict([[1]]),
    lambda: __import__("bankml.stars", fromlist=["x"]).StarBaselineClassifier().predict([[1]]),
])
def test_unfitted_estimators_raise_the_one_not_fitted_error(make):
    with pytest.raises(NotFittedError) as info:
        make()
    assert isinstance(info.value, BankmlError)


def test_check_is_fitted_keeps_the_message():
    from sklearn.tree import DecisionTreeClassifier
    with pytest.raises(NotFittedError, match="DecisionTreeClassifier"):
        errors.check_is_fitted(DecisionTreeClassifier())


def test_importing_bankml_does_not_import_sklearn_for_the_errors():
    import subprocess
    import sys
    code = ("import sys, bankml, bankml.errors, bankml.cli, bankml.labels, bankml.schema; "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_lazy_classes_are_made_once_and_pickle():
    import pickle
    assert errors.NotFittedError is NotFittedError
    assert errors.__getattr__("NotFittedError") is NotFittedError
    err = pickle.loads(pickle.dumps(NotFittedError("x")))
    assert type(err) is NotFittedError and str(err) == "x"
