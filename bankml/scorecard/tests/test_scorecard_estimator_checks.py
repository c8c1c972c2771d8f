"""scikit-learn's estimator contract for RuleScorecardClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.scorecard import RuleScorecardClassifier


# small candidate generation: the checks fit dozens of times on tiny data
@parametrize_with_checks([RuleScorecardClassifier(n_estimators=3, max_rules=10, min_samples_leaf=2,
                                                  random_state=0)])
def test_sklearn_contract(estimator, check):
    check(estimator)
