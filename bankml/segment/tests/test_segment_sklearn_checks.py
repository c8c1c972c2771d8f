"""The scikit-learn estimator contract for CustomerSegmenter (k-means on plain arrays)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from bankml.segment import CustomerSegmenter


@parametrize_with_checks([CustomerSegmenter(n_clusters=3), CustomerSegmenter(k_range=(2, 4))])
def test_sklearn_compatible(estimator, check):
    check(estimator)
