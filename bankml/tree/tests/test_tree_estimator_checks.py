"""scikit-learn's own estimator test suite, run on InfoGainTreeClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.tree import InfoGainTreeClassifier


@parametrize_with_checks([InfoGainTreeClassifier(),
                          InfoGainTreeClassifier(criterion="gain_ratio", pruning="pessimistic")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
