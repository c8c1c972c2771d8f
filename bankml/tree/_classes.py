"""InfoGainTreeClassifier: ID3 / C4.5 decision trees as a fast scikit-learn estimator.

Multiway splits on categories, binary thresholds on numbers, information gain or gain
ratio, C4.5 pessimistic pruning; grown level-wise on binned histograms in NumPy.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d, validate_data

from ..errors import DataError, InvalidParameterError, check_is_fitted
from . import _fractional
from ._best_first import grow_best_first
from ._builder import grow
from ._constraints import resolve_monotonic
from ._prune import cost_complexity_path, prune_cost_complexity, prune_pessimistic
from ._encode import CategoricalCoder, NumericCoder, _Columns, count_below, resolve_categorical
from ._fractional import FractionalTree
from ._structure import Tree

__all__ = ["InfoGainTreeClassifier"]

#: Parameters added after bankml 0.1, with the value that reproduces a 0.1 model.
_ADDED_PARAMS = {"max_leaf_nodes": None, "monotonic_cst": None, "round_thresholds": None,
                 "missing": "majority", "ccp_alpha": 0.0, "cost": None}


class InfoGainTreeClassifier(ClassifierMixin, BaseEstimator):
    """Information-gain decision tree (ID3 / C4.5) with multiway categorical splits.

    Categorical features (pandas ``category`` / ``str`` / ``string`` / ``object`` columns,
    or those named in ``categorical_features``) split multiway, one branch per value, as
    ID3 does. Numeric features split on the best threshold, as C4.5 does, searched on
    ``max_bins`` quantile bins so a split costs one counting pass, not a sort.

    Parameters
    ----------
    criterion : {"gain", "gain_ratio"}, default "gain"
        ``"gain"``: information gain (ID3). ``"gain_ratio"``: C4.5 -- among the features
        whose gain is at least the average gain of the valid splits at the node, the one
        with the highest gain / split information (this stops gain ratio from favouring
        near-useless splits with tiny split information).
    max_depth : int, optional
        Maximum depth (root is depth 0); None grows until leaves are pure or too small.
    min_samples_split : int, default 2
        A node with fewer training rows is a leaf.
    min_samples_leaf : int, default 1
        Every child of a split needs at least this many training rows (for a multiway
        split: every child that receives rows).
    min_weight_fraction_leaf : float in [0, 0.5], default 0.0
        Every child of a split needs at least this fraction of the total training weight
        (sample_weight times class_weight), as in scikit-learn.
    min_gain : float >= 0, finite, default 0.0
        A node is split only when its best gain (bits) is at least this. With 0 an impure
        node is split even by a zero-gain split, as scikit-learn does, so XOR-like
        patterns can be learned; pruning removes splits that do not pay.
    pruning : {None, "pessimistic"}, default None
        ``"pessimistic"``: C4.5 error-based pruning after growth -- a subtree becomes a
        leaf when the leaf's upper confidence bound on errors is at most the subtree's
        (plus C4.5's 0.1 margin). Subtree raising is not done.
    confidence : float in (0, 0.5], default 0.25
        C4.5's confidence factor CF for pessimistic pruning; smaller prunes more.
        The binomial bound is taken on a node's row count (``sample_weight`` counts as
        case weights, as in C4.5) at its error rate weighted by ``class_weight`` and
        ``cost``: class weights change which errors matter, not how much evidence a node
        holds.
        With a rare target (a few % buyers) C4.5's pessimistic pruning on plain counts
        often cuts the tree to one leaf (no leaf has a buyer majority, so no split reduces
        the errors; that is C4.5's own rule, kept as published). Rare-target recipes that
        do not collapse: ``class_weight="balanced"`` with ``pruning="pessimistic"`` (errors
        on class-weighted rates: a leaf predicts "buyer" above the base rate, so splits
        that separate above- from below-base-rate customers survive; add
        ``min_samples_leaf`` for fewer rules), or, for a ranking within a rule budget,
        :class:`InfoGainTreeCV` (``ccp_alpha`` chosen by cross-validated AUC).
    categorical_features : "auto", None, list of names / indices, or boolean mask
        ``"auto"``: DataFrame columns of category / string / object dtype, and non-numeric
        columns of object arrays.
    max_bins : int, default 255
        Numeric features are cut into at most this many quantile bins (distinct values
        when there are fewer); thresholds are bin edges on the original scale.
        Categorical features may have at most this many distinct values.
    class_weight : dict, "balanced" or None
        Class weights, multiplied into ``sample_weight`` ("balanced": inverse class
        frequency, useful as WM buyers are rare).
    random_state : int, RandomState or None
        Seeds the row sample used to place bin edges on more than 200,000 rows.
    max_leaf_nodes : int >= 2, optional
        A rule budget: grow best-first -- the leaf whose best split gains most information
        in total (gain x node weight) is split next -- until the tree has this many leaves
        (a multiway split that would exceed the budget is skipped). None grows level-wise
        without a leaf limit. Combines with the other limits and with pruning.
    monotonic_cst : array-like of {-1, 0, 1}, dict {feature name: -1 | 0 | 1}, optional
        Monotonic constraints on the probability of ``classes_[1]`` (binary targets only),
        as in scikit-learn: 1 = a larger value never lowers it, -1 = never raises it, 0 =
        none. Only numeric features can be constrained. Child probabilities are bounded at
        the midpoint of every constrained split, so ``predict_proba[:, 1]`` (and the rules)
        are monotone in the feature with the others fixed; missing values are not ordered.
    round_thresholds : int in [1, 6], optional
        Numeric thresholds are chosen, during fit, among round numbers with this many
        significant figures (140000, not 142013.57): bin edges are moved to the nearest
        such number, so ``tree_``, ``predict`` and the exported rules agree exactly.
    missing : {"majority", "fractional"}, default "majority"
        How missing values are learned and predicted. ``"majority"``: at each node they go
        to the child with the most training weight (see Notes). ``"fractional"``: C4.5 as
        published -- a split's gain is computed on the rows with a known value times their
        weight fraction (split information counts "unknown" as an extra outcome); in fit a
        row with a missing tested value goes down every branch with its weight times the
        branch's share of the known training weight, and in ``predict_proba`` its class
        distribution is the share-weighted sum of the (Laplace-smoothed) distributions of
        the leaves it reaches. ``tree_.source`` is the grown tree; the rest of ``tree_``
        (``branches``, ``value``, ``apply`` ...) describes its exact single-path
        translation, built on first use: each split gets a third branch "is missing" whose
        subtree is the share-weighted mixture of the sibling subtrees, so rules, SQL and
        ``predict`` agree on every row. Unseen categories still go to the heaviest child.
        The translation grows fast with depth (a depth-4 tree of 22 leaves on
        ``make_customers`` translates to about 1,500 leaves) and is refused
        (ResourceLimitError) above ``bankml.tree._fractional.MAX_TRANSLATED_NODES`` nodes:
        lower ``max_depth``. ``predict_proba`` and ``predict`` never need it.
        Counts are C4.5's: ``value`` and ``n_node_samples`` include the fragments of rows
        sent down several branches (and, below a missing branch, are the share-weighted
        mixtures of the grown nodes; leaves there hold pseudo-counts whose Laplace
        probability is the mixture's), so a rule's support is not a count of customers
        meeting its conditions: re-measure with ``bankml.rules.with_evidence``.
        ``min_samples_leaf`` is checked on each child's rows with a known value.
    ccp_alpha : float >= 0, default 0.0
        Minimal cost-complexity pruning after growth (and after pessimistic pruning, if
        any), as scikit-learn's on the entropy criterion: the weakest links are cut while
        their effective alpha is <= ``ccp_alpha``; node cost is its share of the training
        weight times its entropy in bits, multiway nodes count all their leaves. See
        :meth:`cost_complexity_pruning_path` for the candidate alphas and
        :class:`InfoGainTreeCV` to choose one by cross-validation.
    cost : array-like of shape (n_classes, n_classes), optional
        Misclassification costs as C5.0 has them: ``cost[i, j]`` is the cost of predicting
        ``classes_[j]`` when the truth is ``classes_[i]`` (non-negative, zero diagonal).
        Leaves predict the class of least expected cost (so ``predict`` is then no longer
        the argmax of ``predict_proba``, which stays the leaf's smoothed frequencies; rules
        follow ``predict``), and pessimistic pruning counts cost-weighted errors.
        Splits are still chosen by information gain. With ``class_weight`` too, the
        expected cost is taken over the class-weighted counts.

    Attributes
    ----------
    classes_ : ndarray
    n_classes_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X had string column names)
    categorical_features_ : ndarray of bool, which features were split multiway
    tree_ : bankml.tree._structure.Tree
        Nodes, values, thresholds and ``branches(node)`` (see :class:`Branch`).
    feature_importances_ : ndarray
        Total weighted information gain per feature, normalised to sum 1.

    Notes
    -----
    Missing values (NaN, None, pd.NA) follow a documented majority rule, during training
    and prediction alike: at each node they go to the one child with the most training
    weight. Values of a categorical feature never seen at a node during training (unseen
    categories) also go to that majority child. Every row therefore follows exactly one
    root-to-leaf path, so one rule per leaf reproduces ``predict`` exactly.

    Numeric thresholds are searched among the edges of at most ``max_bins`` quantile bins
    (exactly C4.5's candidates when a feature has fewer distinct values; edges are then
    midpoints of adjacent values). The tree grows level by level: one weighted
    ``np.bincount`` per feature and level gives every node's (bin, class) histogram, from
    which all threshold and multiway gains follow; rows that reach a leaf drop out. With
    ``max_leaf_nodes`` (or ``monotonic_cst``) the same split search runs best-first on each
    node's rows; a budget that does not bind gives the level-wise tree, node for node.

    ``predict_proba`` is Laplace-smoothed: ``(w_c + 1) / (w + n_classes)`` from the
    weighted training counts of the leaf; its argmax is ``predict``.

    Examples
    --------
    >>> from bankml.datasets import load_seed_example
    >>> df = load_seed_example()
    >>> X, y = df.drop(columns="wm_buyer"), df["wm_buyer"]
    >>> tree = InfoGainTreeClassifier(max_depth=2).fit(X, y)
    >>> tree.feature_names_in_[tree.tree_.feature[0]]
    'deposit_band'
    >>> round(float(tree.tree_.impurity[0]), 5)
    0.63431

    A rule budget, grown best-first:

    >>> InfoGainTreeClassifier(max_leaf_nodes=3).fit(X, y).get_n_leaves()
    3
    """

    _parameter_constraints = {
        "criterion": [StrOptions({"gain", "gain_ratio"})],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "min_samples_split": [Interval(Integral, 2, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "min_weight_fraction_leaf": [Interval(Real, 0.0, 0.5, closed="both")],
        "min_gain": [Interval(Real, 0, None, closed="left")],
        "pruning": [StrOptions({"pessimistic"}), None],
        "confidence": [Interval(Real, 0, 0.5, closed="right")],
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "max_bins": [Interval(Integral, 2, 65535, closed="both")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
        "monotonic_cst": ["array-like", dict, None],
        "round_thresholds": [Interval(Integral, 1, 6, closed="both"), None],
        "missing": [StrOptions({"majority", "fractional"})],
        "ccp_alpha": [Interval(Real, 0.0, None, closed="left")],
        "cost": ["array-like", None],
    }

    def __init__(self, criterion="gain", max_depth=None, min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, min_gain=0.0, pruning=None, confidence=0.25, categorical_features="auto",
                 max_bins=255, class_weight=None, random_state=None, max_leaf_nodes=None, monotonic_cst=None,
                 round_thresholds=None, missing="majority", ccp_alpha=0.0, cost=None):
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.min_gain = min_gain
        self.pruning = pruning
        self.confidence = confidence
        self.categorical_features = categorical_features
        self.max_bins = max_bins
        self.class_weight = class_weight
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.monotonic_cst = monotonic_cst
        self.round_thresholds = round_thresholds
        self.missing = missing
        self.ccp_alpha = ccp_alpha
        self.cost = cost

    def __setstate__(self, state):
        # a model pickled by an earlier bankml (a champion in the registry, a joblib file)
        # lacks the parameters added since: they take the defaults it was fitted with
        for name, default in _ADDED_PARAMS.items():
            state.setdefault(name, default)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    # ---- fitting -------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Grow (and optionally prune) the tree.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        self._validate_params()
        cols = _Columns(X)
        validate_data(self, X, skip_check_array=True, reset=True)
        y = self._check_y(y, cols.n_rows)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        self.n_classes_ = self.classes_.size
        cost = self._check_cost()  # before growing: a bad matrix must not cost a whole fit
        w = _check_sample_weight(sample_weight, np.empty((cols.n_rows, 0)), dtype=np.float64,
                                 ensure_non_negative=True)
        class_scale = None  # per-class class_weight factors: pruning counts rows without them
        if self.class_weight is not None:
            cw = compute_sample_weight(self.class_weight, y)
            w = w * cw
            class_scale = cw[np.unique(y_idx, return_index=True)[1]]
        if not w.sum() > 0:
            raise DataError("sample_weight (times class_weight) sums to zero: nothing to learn from")
        names_given = isinstance(X, pd.DataFrame)
        self.categorical_features_ = resolve_categorical(self.categorical_features, cols, names_given)
        mono = resolve_monotonic(self.monotonic_cst, cols, names_given, self.categorical_features_,
                                 self.n_classes_)
        if self.missing == "fractional" and (self.max_leaf_nodes is not None or
                                             (mono is not None and np.any(mono))):
            # best-first growth routes rows one way: it would ignore the fractional weights
            raise InvalidParameterError(
                "missing='fractional' cannot be combined with max_leaf_nodes or monotonic_cst "
                "(best-first growth); use missing='majority', or max_depth as the budget")
        if self.missing == "fractional" and self.cost is not None:
            # fractional rows mix several leaves: a per-leaf least-cost class would not be predict
            raise InvalidParameterError(
                "missing='fractional' cannot be combined with cost; use missing='majority'")
        rng = check_random_state(self.random_state)
        # zero-weight rows carry no information: drop them so they cannot shape bins or splits
        keep = np.flatnonzero(w > 0) if (w == 0).any() else None
        coders, codes = [], []
        for j in range(cols.n_cols):
            name = cols.names[j]
            if self.categorical_features_[j]:
                raw = cols.raw(j)
                if keep is not None:
                    raw = raw.iloc[keep] if isinstance(raw, pd.Series) else raw[keep]
                coder = CategoricalCoder(raw, name, self.max_bins)
                codes.append(coder.train_codes())
            else:
                x = cols.numeric(j, name)
                if keep is not None:
                    x = x[keep]
                coder = NumericCoder(x, self.max_bins, rng, round_to=self.round_thresholds)
                codes.append(coder.codes(x))
            coders.append(coder)
        y_fit = y_idx if keep is None else y_idx[keep]
        w_fit = w if keep is None else w[keep]
        unit = bool(np.all(w_fit == 1.0))
        limits = dict(criterion=self.criterion, max_depth=self.max_depth,
                      min_samples_split=self.min_samples_split,
                      min_samples_leaf=self.min_samples_leaf, min_gain=self.min_gain,
                      min_weight_leaf=self.min_weight_fraction_leaf * float(w_fit.sum()))
        args = (codes, [c.n_bins for c in coders], self.categorical_features_,
                y_fit.astype(np.intp), None if unit else w_fit, self.n_classes_)
        if self.max_leaf_nodes is not None or (mono is not None and np.any(mono)):
            nodes = grow_best_first(*args, **limits, max_leaf_nodes=self.max_leaf_nodes,
                                    monotonic_cst=mono)
        else:
            nodes = grow(*args, **limits, missing=self.missing)
        pruned = (prune_pessimistic(nodes, self.confidence, cost, class_scale) if self.pruning == "pessimistic"
                  else None)
        if self.ccp_alpha > 0:
            pruned = prune_cost_complexity(nodes, self.ccp_alpha, pruned)
        self._coders = coders
        self.tree_ = Tree(nodes, pruned, coders, cost)
        if (self.pruning == "pessimistic" and self.tree_.n_leaves == 1
                and (np.asarray(nodes["feature"]) >= 0).any()):
            # C4.5's rule, kept as published, but a model that says nothing must not pass unseen
            warnings.warn(
                "pessimistic pruning cut the tree to a single leaf (every customer gets the same "
                "score): no split reduced the errors on plain counts, as happens with a rare "
                "target; use class_weight='balanced' with pruning='pessimistic', or "
                "InfoGainTreeCV for a ranking within a rule budget", UserWarning, stacklevel=2)
        if self.missing == "fractional":
            self.tree_ = FractionalTree(self.tree_, coders)
        return self

    def _check_cost(self):
        """The ``cost`` matrix as floats, checked against ``classes_`` (None stays None)."""
        if self.cost is None:
            return None
        k = self.n_classes_

        def bad(why):
            return InvalidParameterError(
                f"The 'cost' parameter of {type(self).__name__} must be a {k} x {k} matrix of "
                f"non-negative finite costs with a zero diagonal (cost[i, j] = cost of predicting "
                f"classes_[j] when the truth is classes_[i]; classes_ = {list(self.classes_)}); {why}")

        try:
            c = np.asarray(self.cost, dtype=np.float64)
        except (TypeError, ValueError):
            raise bad(f"got non-numeric entries: {self.cost!r}") from None
        if c.shape != (k, k):
            raise bad(f"got shape {c.shape}")
        if not np.isfinite(c).all():
            raise bad("got NaN or infinite entries")
        if (c < 0).any():
            raise bad(f"got negative entries at {np.argwhere(c < 0).tolist()}")
        if np.diag(c).any():
            raise bad(f"got a nonzero diagonal {np.diag(c).tolist()}")
        if not c.any():
            raise bad("got all zeros (every prediction would be free)")
        return c

    def cost_complexity_pruning_path(self, X, y, sample_weight=None):
        """Minimal cost-complexity pruning path of the tree these parameters grow on (X, y).

        As scikit-learn's: the tree is grown (and pessimistically pruned if ``pruning`` says
        so) with ``ccp_alpha=0``; at each step the internal node of least effective alpha
        ``(R(t) - R(T_t)) / (leaves(T_t) - 1)`` becomes a leaf, where ``R`` is the node's share
        of the training weight times its entropy in bits. Multiway nodes count all their
        leaves. ``fit`` with ``ccp_alpha=a`` keeps every step whose effective alpha is <= a.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        sklearn.utils.Bunch
            ``ccp_alphas`` (increasing, first 0.0) and ``impurities`` (total leaf impurity of
            the subtree at each alpha; the last is the root's entropy).

        Examples
        --------
        >>> from bankml.datasets import load_seed_example
        >>> df = load_seed_example()
        >>> path = InfoGainTreeClassifier().cost_complexity_pruning_path(
        ...     df.drop(columns="wm_buyer"), df["wm_buyer"])
        >>> float(path.ccp_alphas[0]), bool(path.impurities[-1] >= path.impurities[0])
        (0.0, True)
        """
        full = clone(self).set_params(ccp_alpha=0.0).fit(X, y, sample_weight)
        t = full.tree_
        path = cost_complexity_path(t.value, t.feature, t.first_child, t.n_children, t.parent)
        return Bunch(ccp_alphas=path.ccp_alphas, impurities=path.impurities)

    def _check_y(self, y, n_rows):
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        if isinstance(y, (pd.Series, pd.DataFrame)):
            y = y.to_numpy()
        y = np.asarray(y)
        if y.dtype.kind in "fc" or y.dtype == object:
            missing = pd.isna(y) if y.ndim else np.array([pd.isna(y)])
            if np.any(missing):
                rows = np.flatnonzero(np.ravel(missing))[:5].tolist()
                raise ValueError(f"Input y contains NaN: the target has missing values in rows {rows}")
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n_rows:
            raise ValueError(f"X and y have inconsistent numbers of samples: {n_rows} and {y.shape[0]}")
        return y

    # ---- prediction ----------------------------------------------------------------------------
    def _codes(self, X, tree=None):
        check_is_fitted(self, "tree_")
        cols = _Columns(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        if cols.n_cols != self.n_features_in_:
            raise ValueError(f"X has {cols.n_cols} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        t = self.tree_ if tree is None else tree
        n = cols.n_rows
        codes = np.zeros((t.used_features.size + 1, n), dtype=t.code_dtype)
        for r, f in enumerate(t.used_features):
            name = cols.names[f] if not hasattr(self, "feature_names_in_") else str(self.feature_names_in_[f])
            if self.categorical_features_[f]:
                codes[r] = self._coders[f].predict_codes(cols.raw(f))
            else:
                codes[r] = count_below(t.used_thresholds[int(f)], cols.numeric(f, name))
        return codes

    def apply(self, X):
        """Index of the leaf each row of ``X`` ends in."""
        codes = self._codes(X)
        return self.tree_.route(codes)

    def decision_path(self, X):
        """Sparse CSR indicator (n_samples, node_count) of the nodes each row passes through."""
        codes = self._codes(X)
        return self.tree_.route(codes, return_path=True)[1]

    def predict_proba(self, X):
        """Laplace-smoothed class probabilities of the leaf each row reaches."""
        check_is_fitted(self, "tree_")
        if self.missing == "fractional":  # C4.5: every branch where the tested value is missing
            src = self.tree_.source
            return _fractional.predict_proba(src, self._codes(X, src))
        leaf = self.apply(X)
        v = self.tree_.value[leaf]
        return (v + 1.0) / (v.sum(axis=1, keepdims=True) + self.n_classes_)

    def predict(self, X):
        """Majority class (by weighted training count) of the leaf each row reaches, or its
        least-expected-cost class when ``cost`` is given."""
        if self.missing == "fractional":
            proba = self.predict_proba(X)
            return self.classes_.take(np.argmax(proba, axis=1))
        leaf = self.apply(X)
        # the class of every node first (a few hundred), then one gather over the rows;
        # Tree.leaf_class_index is the one place that says which class a leaf predicts
        t = self.tree_
        return self.classes_[t.leaf_class_index(np.arange(t.node_count))].take(leaf)

    # ---- inspection ----------------------------------------------------------------------------
    @property
    def feature_importances_(self):
        """Total weighted information gain per feature, normalised to sum 1."""
        check_is_fitted(self, "tree_")
        t = self.tree_.source if self.missing == "fractional" else self.tree_  # gain lives there
        internal = t.feature >= 0
        imp = np.bincount(t.feature[internal], weights=(t.weighted_n_node_samples * t.gain)[internal],
                          minlength=self.n_features_in_)
        total = imp.sum()
        return imp / total if total > 0 else imp

    def get_depth(self):
        """Depth of the tree (a single leaf has depth 0)."""
        check_is_fitted(self, "tree_")
        return self.tree_.max_depth

    def get_n_leaves(self):
        """Number of leaves."""
        check_is_fitted(self, "tree_")
        return self.tree_.n_leaves

    def _feature_names(self):
        if hasattr(self, "feature_names_in_"):
            return [str(c) for c in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]
