"""InfoGainTreeCV: the tree's complexity (a pruned subtree's ``ccp_alpha`` or a best-first leaf
budget ``max_leaf_nodes``) chosen by cross-validated AUC, lift or log-loss within a rule
budget, then refitted on all the data.

Each fold grows ONE full tree; every candidate subtree is scored by routing the validation rows
through it once and re-reading them at the node that stands for their leaf after pruning. Each
fold also grows one best-first tree per leaf budget.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import HasMethods, Interval, InvalidParameterError, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ..errors import check_is_fitted
from ..metrics import LIFT_SCORER_TOP, lift_at
from ._classes import InfoGainTreeClassifier
from ._prune import collapsed_nodes, cost_complexity_path, path_steps

__all__ = ["InfoGainTreeCV"]


def _candidate_alphas(path, max_rules):
    """One ccp_alpha per subtree of the path with at most ``max_rules`` leaves: the geometric
    mean of the alpha that reaches the subtree and the next one (Breiman's choice: inside the
    interval where that subtree is the result, away from its float-sensitive ends)."""
    # steps are taken up to the first alpha above ccp_alpha, so what reaches step s is the
    # running maximum (equal to the alpha itself in exact arithmetic, where alphas never fall)
    reach = np.maximum.accumulate(path.ccp_alphas)
    n = reach.size
    out, leaves = [], []
    for s in range(n):
        if path.n_leaves[s] > max_rules:
            continue
        m = reach[s]
        if s + 1 < n:
            nxt = path.ccp_alphas[s + 1]
            if nxt <= m:
                continue  # a tie: the next step is taken at the same alpha, no alpha stops here
            alpha = float(np.sqrt(m * nxt)) if m > 0 else (0.0 if s == 0 else nxt / 2)
        else:
            # the root alone; ccp_alpha must be > 0 for fit to prune at all
            alpha = float(m) if m > 0 else float(np.finfo(np.float64).tiny)
        out.append(alpha)
        leaves.append(int(path.n_leaves[s]))
    return np.array(out, dtype=np.float64), np.array(leaves, dtype=np.int64)


#: Leaf budgets tried besides the pruning path (those up to max_rules, and max_rules itself).
_BUDGETS = (2, 3, 4, 6, 8, 12, 16, 20, 24, 30, 40, 50, 64)


def _leaf_budgets(base, max_rules):
    """The best-first leaf budgets to try: none where the estimator cannot grow best-first."""
    if getattr(base, "missing", "majority") == "fractional":
        return []  # best-first growth refuses fractional missing values
    return sorted({b for b in _BUDGETS if b <= max_rules} | ({max_rules} if max_rules >= 2 else set()))


def _subtree_proba(tree, path, alpha, leaf_of_row):
    """Laplace-smoothed probabilities (as ``predict_proba``) of the subtree at ``alpha``."""
    cut = np.zeros(tree.node_count, dtype=bool)
    cut[path.order[:path_steps(path, alpha)]] = True
    node = collapsed_nodes(tree.parent, cut)[leaf_of_row]
    v = tree.value[node]
    return (v + 1.0) / (v.sum(axis=1, keepdims=True) + tree.n_classes)


class InfoGainTreeCV(ClassifierMixin, BaseEstimator):
    """Information-gain tree whose complexity is chosen by cross-validation within a rule budget.

    Two families of candidates, all with at most ``max_rules`` leaves: the subtrees of the
    minimal cost-complexity pruning path (``ccp_alpha``) of the tree ``estimator`` grows on all
    the data, and best-first trees grown to a leaf budget (``max_leaf_nodes`` in 2, 3, 4, 6,
    8, ... up to ``max_rules``; weakest-link pruning of an overgrown tree keeps the splits that
    lower entropy most, which on a rare target are not always those that rank best). Each is
    scored by ``cv``-fold cross-validation (each fold grows its own trees, pruned at the same
    alphas), and ``estimator`` is refitted on all the data with the best candidate's setting.
    Ties go to the smaller tree. One leaf is one IF-THEN rule, so ``max_rules`` is the rule
    budget a branch receives.

    Parameters
    ----------
    estimator : InfoGainTreeClassifier, optional
        The tree settings (criterion, max_depth, class_weight, pruning, ...); its ``ccp_alpha``
        is replaced by the selected one. Default ``InfoGainTreeClassifier()``.
    max_rules : int >= 1, default 30
        Largest number of leaves (rules) a candidate subtree may have.
    scoring : {"roc_auc", "lift", "neg_log_loss"}, default "roc_auc"
        ``"roc_auc"`` (one-vs-rest macro average for more than two classes), ``"lift"``
        (lift in the top 10% by the probability of ``classes_[1]``, binary targets only) or
        ``"neg_log_loss"`` of ``predict_proba``.
    cv : int >= 2, cross-validation splitter or iterable of (train, test) indices, default 5
        An int means ``StratifiedKFold(cv, shuffle=True, random_state=random_state)``. When a
        class has fewer rows than folds, the folds are reduced to that count; with fewer than
        two rows in a class no cross-validation is possible and the largest subtree within
        the budget is kept (``cv_results_`` then holds no scores); likewise with one class.
    random_state : int, RandomState or None
        Shuffles the rows into folds.

    Attributes
    ----------
    best_ccp_alpha_ : float (0.0 when a leaf budget was chosen)
    best_max_leaf_nodes_ : int or None (None when a pruned subtree was chosen)
    best_estimator_ : InfoGainTreeClassifier, refitted on all the data
    best_score_ : float, mean cross-validated score of the selected subtree (NaN without CV)
    cv_results_ : dict of arrays, one entry per candidate subtree (``pandas.DataFrame(cv_results_)``):
        ``ccp_alpha``, ``max_leaf_nodes`` (0 for a pruned subtree), ``n_leaves`` (on the
        all-data tree), ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``
    n_rules_ : int, leaves of ``best_estimator_``
    classes_, n_features_in_, feature_names_in_, tree_, categorical_features_ : as the best
        estimator's, so ``bankml.rules.rules_from_tree`` reads this object directly.

    Examples
    --------
    >>> from bankml.datasets import make_customers
    >>> df = make_customers(2000, seed=1)
    >>> X, y = df.drop(columns=["customer_id", "wm_buyer"]), df["wm_buyer"]
    >>> cv = InfoGainTreeCV(max_rules=10, random_state=0).fit(X, y)
    >>> cv.n_rules_ <= 10, cv.predict_proba(X).shape
    (True, (2000, 2))
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "cost_complexity_pruning_path"]), None],
        "max_rules": [Interval(Integral, 1, None, closed="left")],
        "scoring": [StrOptions({"roc_auc", "lift", "neg_log_loss"})],
        "cv": ["cv_object"],  # an int below 2 is refused in fit (no constraint says "int >= 2 or iterable")
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, max_rules=30, scoring="roc_auc", cv=5, random_state=None):
        self.estimator = estimator
        self.max_rules = max_rules
        self.scoring = scoring
        self.cv = cv
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Select the subtree by cross-validation and refit it on all the data.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Passed to every tree fit (training folds and the final refit).

        Returns
        -------
        self
        """
        self._validate_params()
        if isinstance(self.cv, Integral) and self.cv < 2:
            raise InvalidParameterError(f"The 'cv' parameter of {type(self).__name__} must be an int >= 2 "
                                        f"(folds), a splitter or (train, test) pairs; got {self.cv!r}")
        base = InfoGainTreeClassifier() if self.estimator is None else self.estimator
        full = clone(base).set_params(ccp_alpha=0.0).fit(X, y, sample_weight)
        classes = full.classes_
        if self.scoring == "lift" and classes.size != 2:
            raise InvalidParameterError(
                f"The 'scoring' parameter of {type(self).__name__} is 'lift', which needs a binary "
                f"target; y has {classes.size} classes {list(classes)}")
        t = full.tree_
        path = cost_complexity_path(t.value, t.feature, t.first_child, t.n_children, t.parent)
        alphas, leaves = _candidate_alphas(path, self.max_rules)
        budgets = _leaf_budgets(base, self.max_rules)
        grown = [clone(base).set_params(ccp_alpha=0.0, max_leaf_nodes=b).fit(X, y, sample_weight)
                 for b in budgets]
        budget_arr = np.concatenate([np.zeros(alphas.size, np.int64), np.array(budgets, np.int64)])
        alphas = np.concatenate([alphas, np.zeros(len(budgets))])
        leaves = np.concatenate([leaves, np.array([m.get_n_leaves() for m in grown], np.int64)])
        y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if y_arr.ndim == 2 and y_arr.shape[1] == 1:
            y_arr = y_arr.ravel()
        check_classification_targets(y_arr)
        scores = self._cv_scores(base, X, y_arr, sample_weight, classes, alphas, budget_arr)
        results = {"ccp_alpha": alphas, "max_leaf_nodes": budget_arr, "n_leaves": leaves}
        if scores is None:
            best = int(np.argmax(leaves == leaves.max()))  # no CV: the largest tree in budget
            mean = std = np.full(alphas.size, np.nan)
            rank = np.ones(alphas.size, dtype=np.int64)
        else:
            for k, s in enumerate(scores):
                results[f"split{k}_test_score"] = s
            mean, std = scores.mean(axis=0), scores.std(axis=0)
            # best mean score; among equal means the fewest leaves (a branch reads fewer rules)
            order = np.lexsort((leaves, -np.round(mean, 12)))
            best = int(order[0])
            rank = np.empty(alphas.size, dtype=np.int64)
            rank[order] = np.arange(1, alphas.size + 1)
        results.update(mean_test_score=mean, std_test_score=std, rank_test_score=rank)
        self.cv_results_ = results
        self.best_index_ = best
        self.best_ccp_alpha_ = float(alphas[best])
        self.best_max_leaf_nodes_ = int(budget_arr[best]) or None
        self.best_score_ = float(mean[best])
        if self.best_max_leaf_nodes_ is None:
            self.best_estimator_ = clone(base).set_params(ccp_alpha=self.best_ccp_alpha_).fit(
                X, y, sample_weight)
        else:
            self.best_estimator_ = grown[budgets.index(self.best_max_leaf_nodes_)]
        self.n_rules_ = int(self.best_estimator_.get_n_leaves())
        self.classes_ = self.best_estimator_.classes_
        self.n_features_in_ = self.best_estimator_.n_features_in_
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _folds(self, y):
        cv = 5 if self.cv is None else self.cv
        if isinstance(cv, Integral):
            smallest = int(np.unique(y, return_counts=True)[1].min())
            k = min(int(cv), smallest)
            if k < 2:
                return None  # a class with a single row cannot be in a training and a test fold
            return StratifiedKFold(k, shuffle=True, random_state=self.random_state)
        return self.cv if hasattr(self.cv, "split") else _Given(self.cv)

    def _cv_scores(self, base, X, y, sample_weight, classes, alphas, budgets):
        splitter = None if classes.size < 2 else self._folds(y)  # one class: nothing to rank
        if splitter is None:
            return None
        rows = []
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        for train, test in splitter.split(np.zeros((y.size, 1)), y):
            Xtr, Xte = _take(X, train), _take(X, test)
            m = clone(base).set_params(ccp_alpha=0.0).fit(Xtr, y[train], None if sw is None else sw[train])
            t = m.tree_
            path = cost_complexity_path(t.value, t.feature, t.first_child, t.n_children, t.parent)
            leaf = m.apply(Xte)
            # a fold may miss a class: align its columns to all classes (absent = 0)
            cols = np.searchsorted(classes, m.classes_)
            row = []
            for a, b in zip(alphas, budgets):
                if b:  # a best-first tree to this leaf budget, grown on the fold
                    mb = clone(base).set_params(ccp_alpha=0.0, max_leaf_nodes=int(b)).fit(
                        Xtr, y[train], None if sw is None else sw[train])
                    p_fold, cols_b = mb.predict_proba(Xte), np.searchsorted(classes, mb.classes_)
                else:
                    p_fold, cols_b = _subtree_proba(t, path, a, leaf), cols
                p = np.zeros((test.size, classes.size))
                p[:, cols_b] = p_fold
                row.append(self._score(y[test], p, classes))
            rows.append(row)
        return np.array(rows, dtype=np.float64)

    def _score(self, y_true, proba, classes):
        if self.scoring == "neg_log_loss":
            return -log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=classes)
        present = np.unique(y_true)
        if present.size < 2:
            return np.nan  # a custom splitter's fold with one class has no ranking to judge
        if self.scoring == "lift":
            return lift_at((y_true == classes[1]).astype(int), proba[:, 1], LIFT_SCORER_TOP)
        if classes.size == 2:
            return roc_auc_score(y_true == classes[1], proba[:, 1])
        p = proba / proba.sum(axis=1, keepdims=True)
        if present.size < classes.size:
            keep = np.isin(classes, present)
            p = p[:, keep] / p[:, keep].sum(axis=1, keepdims=True)
            return roc_auc_score(y_true, p, multi_class="ovr", labels=classes[keep])
        return roc_auc_score(y_true, p, multi_class="ovr", labels=classes)

    # ---- delegation to the refitted tree -------------------------------------------------------
    @property
    def tree_(self):
        """The selected tree's ``tree_`` (see :class:`InfoGainTreeClassifier`)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.tree_

    @property
    def categorical_features_(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.categorical_features_

    def predict(self, X):
        """Class of the leaf each row reaches in the selected tree."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of the selected tree."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def apply(self, X):
        """Leaf index of each row in the selected tree."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.apply(X)

    def get_n_leaves(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.get_n_leaves()

    def get_depth(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.get_depth()

    @property
    def feature_importances_(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.feature_importances_


class _Given:
    """An iterable of (train, test) index pairs as a splitter."""

    def __init__(self, splits):
        self.splits = list(splits)

    def split(self, X, y):
        return iter(self.splits)


def _take(X, idx):
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, list):
        return [X[i] for i in idx]
    return np.asarray(X)[idx] if not hasattr(X, "shape") else X[idx]
