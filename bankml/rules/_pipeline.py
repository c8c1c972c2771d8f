"""Rules from a fitted scikit-learn Pipeline, in the units of the RAW input columns.

A branch has ages, not bands: band and ordinal-code conditions are inverted step by step
(last step first) into exact conditions on the columns the pipeline was given.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from ..errors import NotFittedError, RuleExportError
from ._extract import tree_rules
from ._rate import renumber_scores
from ._model import NUMERIC_OPS, Condition, Rule

__all__ = ["rules_from_tree", "rules_from_pipeline"]


# -- which values of a derived column a rule lets through --------------------------------------
def _passes(cond: Condition, value) -> bool:
    """Whether a PRESENT value of the condition's column satisfies it."""
    if cond.op in NUMERIC_OPS:
        if isinstance(value, str):
            return False
        v = float(value)
        return {"<=": v <= cond.value, "<": v < cond.value,
                ">": v > cond.value, ">=": v >= cond.value}[cond.op]
    return (value in cond.values) == cond.is_positive_set


def _allowed(conds, candidates):
    """Candidates passing every condition, and whether a missing value passes them all."""
    keep = [v for v in candidates if all(_passes(c, v) for c in conds)]
    return keep, all(c.includes_missing for c in conds)


def _present(feature, missing_ok):
    # "not in {}": every present value passes; missing only when said so
    return [] if missing_ok else [Condition(feature, "not in", frozenset())]


# -- one invertible step -----------------------------------------------------------------------
class _BinnerStep:
    """ConceptHierarchyBinner: a band condition becomes intervals on the raw column."""

    def __init__(self, name, binner):
        self.name = name
        self.input_names = [str(c) for c in binner.feature_names_in_]
        self.output_names = [str(c) for c in binner.get_feature_names_out()]
        self.bands = {binner.band_column(c): (c, binner.band_intervals(c)) for c in binner.cuts_}

    def invert(self, conds):
        """Alternatives (lists of conditions on the input columns), one per band run."""
        by_band, rest = {}, []
        for c in conds:
            if c.feature in self.bands:
                by_band.setdefault(c.feature, []).append(c)
            else:
                rest.append(c)
        choices = []
        for band_col, cs in by_band.items():
            raw, intervals = self.bands[band_col]
            if any(c.op in NUMERIC_OPS for c in cs):
                raise RuleExportError(f"step {self.name!r} (ConceptHierarchyBinner): the model "
                                      f"compares the band column {band_col!r} with a number "
                                      f"('{next(c for c in cs if c.op in NUMERIC_OPS)}'); bands "
                                      "are labels, so this cannot be written on the raw column")
            labels = [lab for lab, _, _ in intervals]
            keep, missing_ok = _allowed(cs, labels)
            choices.append(_intervals(raw, [labels.index(k) for k in keep], intervals, missing_ok))
        return [rest + [c for part in combo for c in part] for combo in itertools.product(*choices)]


def _intervals(raw, idx, intervals, missing_ok):
    """Runs of adjacent bands as ``low < x <= high`` alternatives; missing on the first only,
    so the alternatives stay disjoint."""
    if not idx:
        return [[Condition(raw, "in", frozenset(), includes_missing=True)]] if missing_ok else []
    runs, start = [], idx[0]
    for a, b in zip(idx, idx[1:] + [None]):
        if b != a + 1:
            runs.append((start, a))
            start = b
    out = []
    for i, (first, last) in enumerate(runs):
        low, high = intervals[first][1], intervals[last][2]
        miss = missing_ok and i == 0
        conds = []
        if low > -math.inf:
            conds.append(Condition(raw, ">", low, includes_missing=miss))
        if high < math.inf:
            conds.append(Condition(raw, "<=", high, includes_missing=miss))
        out.append(conds or _present(raw, miss))
    return out


def _is_identity(trans) -> bool:
    from sklearn.preprocessing import FunctionTransformer
    if isinstance(trans, str):
        return trans == "passthrough"
    # a fitted ColumnTransformer holds "passthrough" parts as FunctionTransformer(func=None)
    return type(trans) is FunctionTransformer and trans.func is None


class _ColumnStep:
    """ColumnTransformer of OrdinalEncoder / "passthrough" / "drop" parts."""

    def __init__(self, name, ct):
        from sklearn.preprocessing import OrdinalEncoder
        self.name = name
        n_in = int(ct.n_features_in_)
        names_in = getattr(ct, "feature_names_in_", None)
        self.input_names = ([str(c) for c in names_in] if names_in is not None
                            else [f"x{i}" for i in range(n_in)])
        to_input = getattr(ct, "_transformer_to_input_indices", None)
        if to_input is None:
            raise RuleExportError(f"step {name!r} (ColumnTransformer): this scikit-learn version "
                                  "does not record which input columns each part reads")
        for part, trans, _ in ct.transformers_:
            if not (isinstance(trans, str) and trans == "drop") and not _is_identity(trans) \
                    and type(trans) is not OrdinalEncoder:
                raise RuleExportError(
                    f"step {name!r}, part {part!r}: {type(trans).__name__} cannot be inverted "
                    "into conditions on the raw columns (supported: OrdinalEncoder, "
                    "'passthrough', 'drop')")
        try:
            self.output_names = [str(c) for c in ct.get_feature_names_out()]
        except (AttributeError, ValueError) as exc:
            raise RuleExportError(f"step {name!r} (ColumnTransformer) cannot name its output "
                                  f"columns: {exc}") from None
        self.map = {}  # output name -> (input name, encoder or None, index in the encoder)
        for part, trans, _ in ct.transformers_:
            if isinstance(trans, str) and trans == "drop":
                continue
            sl = ct.output_indices_[part]
            cols = [self.input_names[i] for i in to_input[part]]
            if _is_identity(trans):
                for k, pos in enumerate(range(sl.start, sl.stop)):
                    self.map[self.output_names[pos]] = (cols[k], None, k)
            else:
                bad = getattr(trans, "infrequent_categories_", None)
                if bad is not None and any(b is not None for b in bad):
                    raise RuleExportError(f"step {name!r}, part {part!r}: OrdinalEncoder groups "
                                          "infrequent categories; rules cannot name them")
                for k, pos in enumerate(range(sl.start, sl.stop)):
                    self.map[self.output_names[pos]] = (cols[k], trans, k)

    def invert(self, conds):
        by_out, out = {}, []
        for c in conds:
            if c.feature not in self.map:
                raise RuleExportError(f"step {self.name!r}: the model reads column {c.feature!r}, "
                                      "which this ColumnTransformer does not produce")
            raw, enc, k = self.map[c.feature]
            if enc is None:
                out.append(dataclasses.replace(c, feature=raw))
            else:
                by_out.setdefault(c.feature, []).append(c)
        for feature, cs in by_out.items():
            raw, enc, k = self.map[feature]
            conds = _decode(raw, enc, k, cs, self.name)
            if conds is None:
                return []  # no value reaches this rule
            out.extend(conds)
        return [out]


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _decode(raw, enc, k, conds, step):
    """Conditions on ordinal codes as one set condition on the raw category column."""
    cats = [c.item() if isinstance(c, np.generic) else c for c in enc.categories_[k]]
    known = [(code, c) for code, c in enumerate(cats) if not _is_missing(c)]
    unknown_code = enc.unknown_value if enc.handle_unknown == "use_encoded_value" else None
    # A missing value unseen in fit is an unknown category to OrdinalEncoder.
    missing_code = (enc.encoded_missing_value if len(known) < len(cats) else unknown_code)

    def code_passes(code):
        if isinstance(code, float) and math.isnan(code):
            return all(c.includes_missing for c in conds)
        return all(_passes(c, code) for c in conds)

    try:
        keep = frozenset(cat for code, cat in known if code_passes(code))
    except TypeError as exc:
        raise RuleExportError(f"step {step!r}: cannot decode the conditions on {raw!r}: {exc}") from None
    missing_ok = missing_code is not None and code_passes(missing_code)
    unknown_ok = unknown_code is not None and code_passes(unknown_code)
    if unknown_ok:
        if len(keep) == len(known):
            return _present(raw, missing_ok)
        return [Condition(raw, "not in", frozenset(c for _, c in known) - keep, missing_ok)]
    if not keep and not missing_ok:
        return None
    return [Condition(raw, "in", keep, missing_ok)]


# -- tidy: one lower and one upper bound per column --------------------------------------------
def _tighten(conds):
    """Merge numeric bounds on one column into the tightest (exact: a missing value passes the
    merged bound only if it passed them all)."""
    out, seen = [], {}
    for c in conds:
        if c.op not in NUMERIC_OPS:
            out.append(c)
            continue
        side = "upper" if c.op in ("<=", "<") else "lower"
        key = (c.feature, side)
        if key not in seen:
            seen[key] = len(out)
            out.append(c)
            continue
        i = seen[key]
        old = out[i]
        miss = old.includes_missing and c.includes_missing
        if side == "upper":
            tighter = c if (c.value, c.op == "<=") < (old.value, old.op == "<=") else old
        else:
            tighter = c if (c.value, c.op == ">") > (old.value, old.op == ">") else old
        out[i] = dataclasses.replace(tighter, includes_missing=miss)
    return out


# -- the pipeline ------------------------------------------------------------------------------
def _flatten(pipe, prefix=""):
    from sklearn.pipeline import Pipeline
    steps = []
    for name, step in pipe.steps:
        if isinstance(step, Pipeline):
            steps += _flatten(step, f"{prefix}{name}__")
        else:
            steps.append((f"{prefix}{name}", step))
    return steps


def _step_object(name, step):
    from sklearn.compose import ColumnTransformer

    from ..tree import ConceptHierarchyBinner
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return None
    if isinstance(step, ConceptHierarchyBinner):
        if not hasattr(step, "feature_names_in_"):
            raise NotFittedError(f"step {name!r} (ConceptHierarchyBinner) is not fitted")
        return _BinnerStep(name, step)
    if isinstance(step, ColumnTransformer):
        if not hasattr(step, "transformers_"):
            raise NotFittedError(f"step {name!r} (ColumnTransformer) is not fitted")
        return _ColumnStep(name, step)
    raise RuleExportError(f"step {name!r} ({type(step).__name__}) cannot be inverted into "
                          "conditions on the raw columns; supported steps: "
                          "ConceptHierarchyBinner, ColumnTransformer of OrdinalEncoder/"
                          "passthrough, 'passthrough'")


def _is_fitted(estimator) -> bool:
    from sklearn.exceptions import NotFittedError as SklearnNotFitted
    from sklearn.utils.validation import check_is_fitted
    try:
        check_is_fitted(estimator)
    except SklearnNotFitted:
        return False
    except TypeError:  # not an estimator at all: let the caller say what it is
        return True
    return True


def _describe(steps) -> str:
    parts = [f"{n}: {'passthrough' if s is None or isinstance(s, str) else type(s).__name__}"
             for n, s in steps]
    return f"Pipeline({', '.join(parts)})"


def rules_from_tree(model, target=None, *, label_column=None, model_version=None,
                    min_lift=None, top_fraction=None) -> RuleSet:
    """One rule per root-to-leaf path of a fitted tree, with its training evidence.

    Parameters
    ----------
    model : InfoGainTreeClassifier or sklearn DecisionTreeClassifier
        A fitted tree (a fitted Pipeline ending in one is refused, naming
        :func:`bankml.rules.rules_from_pipeline`: one converter per source). NaN routing
        (``missing_go_to_left`` / ``includes_missing``) is carried into the rules, so
        ``RuleSet.predict`` equals ``model.predict``.
    target : class value or label, optional
        Keep only leaves predicting this class (a class value, or its zh/en label under
        ``label_column``, e.g. ``"WM buyer"``). The default then becomes the other class
        for a binary model (so predictions still equal the model's) and the majority of the
        other classes otherwise.
    label_column : str, optional
        The predicted column's name (e.g. ``"wm_buyer"``) for labelling predictions.
    model_version : str, optional
        Recorded in ``provenance`` and printed on the HTML sheet.
    min_lift : float > 0, optional
        Rules BY RATE for a rare target (``target``, default the second class of a binary
        model): every leaf whose score for the target (the model's ``predict_proba``, which
        is what it ranks customers by) is at least ``min_lift`` x the target's base rate
        becomes a rule, whatever its majority class. Rules are sorted by that score, best
        first; the default reads "other customers (rate x%)" with the pooled rate of the
        leaves left out. Each rule's ``confidence`` is its rate, ``lift`` rate / base rate;
        the scores are kept in ``provenance["rate_rules"]`` and every export carries them
        (a ``score`` column in SQL, ``<function_name>_score(row)`` in the generated Python,
        JSON). Check such rules with ``check_fidelity(..., on="score")`` (the default for them): the rules
        rank exactly as the model does. Not with ``top_fraction``.
    top_fraction : float in (0, 1], optional
        Rules by rate as for ``min_lift``, choosing the best leaves until they hold this
        share of the training rows (leaves tied with the last one are taken too).

    Returns
    -------
    RuleSet
        Each rule's ``support`` is the training rows at its leaf, ``confidence`` the
        (weighted) share of the predicted class there, ``lift`` confidence over the class's
        share at the root, ``coverage`` the leaf's share of training rows. With
        ``class_weight``/``sample_weight`` the confidence is the WEIGHTED share
        (``weighted`` is True); use :func:`bankml.rules.with_evidence` on unweighted
        data (e.g. a hold-out month) before showing rules to a branch.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = pd.DataFrame({"age": [20, 30, 60, 70], "deposit": [100, 3000, 3000, 200]})
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    >>> print(rules_from_tree(tree, target=1))
    1. IF age > 45 or missing THEN 1  [support 2, confidence 100%]
    OTHERWISE 0
    """
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        from ..errors import InvalidParameterError

        # one converter per source (#16): the pipeline's own converter writes the rules on its
        # raw input columns; its last step alone would give rules on bands or codes
        raise InvalidParameterError(
            "rules_from_tree takes a fitted tree; for a fitted Pipeline use "
            "bankml.rules.rules_from_pipeline(pipeline, ...), which writes the rules on the "
            "pipeline's raw input columns")
    return tree_rules(model, target, label_column=label_column, model_version=model_version,
                      min_lift=min_lift, top_fraction=top_fraction)


def rules_from_pipeline(pipeline, target=None, *, label_column=None, model_version=None,
                        min_lift=None, top_fraction=None):
    """One rule per leaf of a pipeline's tree, written on the pipeline's RAW input columns.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted; its last step a bankml ``InfoGainTreeClassifier`` or a scikit-learn tree,
        the steps before it ``ConceptHierarchyBinner``, a ``ColumnTransformer`` of
        ``OrdinalEncoder``/"passthrough"/"drop" parts, or "passthrough"/None.
    target, label_column, model_version, min_lift, top_fraction
        As in :func:`bankml.rules.rules_from_tree` (a piece of a rate rule keeps its leaf's
        score: the model scores every row of the leaf alike).

    Returns
    -------
    RuleSet
        A band condition (``age in {'>55'}``) becomes ``age > 55`` with the binner's exact
        cut (bands are right-closed: 30 is in ``<=30``), a missing age passing exactly when
        the model sends a missing band there. A set of non-adjacent bands is split into one
        rule per run of adjacent bands; the pieces predict the same class and are disjoint,
        so predictions are unchanged, but a piece has no training evidence of its own
        (support, confidence ... are None: measure them with ``with_evidence``). A threshold
        on an ordinal code becomes a set of categories (``not in`` when unknown categories
        pass too).

    Raises
    ------
    RuleExportError
        A step that cannot be inverted (named in the message), never a rule on
        intermediate values.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.pipeline import Pipeline
    >>> from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier
    >>> X = pd.DataFrame({"age": [20, 25, 40, 45, 60, 70]})
    >>> pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
    ...                  ("tree", InfoGainTreeClassifier())]).fit(X, [0, 0, 1, 1, 0, 0])
    >>> for rule in rules_from_pipeline(pipe, target=1):
    ...     print(" AND ".join(map(str, rule.conditions)), "->", rule.prediction)
    age > 30 AND age <= 55 -> 1
    """
    from sklearn.pipeline import Pipeline
    if not isinstance(pipeline, Pipeline):
        raise RuleExportError(f"rules_from_pipeline needs a scikit-learn Pipeline, got "
                              f"{type(pipeline).__name__}")
    steps = _flatten(pipeline)
    if not steps:
        raise RuleExportError("the pipeline has no steps")
    tree_name, tree = steps[-1]
    if tree is None or isinstance(tree, str):
        raise RuleExportError(f"the pipeline's last step {tree_name!r} is 'passthrough', not a "
                              "tree classifier")
    if not _is_fitted(tree):
        raise NotFittedError(f"the pipeline's last step {tree_name!r} ({type(tree).__name__}) is "
                             "not fitted: fit the pipeline first")
    if not hasattr(tree, "tree_"):
        raise RuleExportError(f"the pipeline's last step {tree_name!r} ({type(tree).__name__}) "
                              "is not a tree classifier")
    layers = [obj for obj in (_step_object(n, s) for n, s in steps[:-1]) if obj is not None]
    rs = tree_rules(tree, target, label_column=label_column, model_version=model_version,
                    min_lift=min_lift, top_fraction=top_fraction)
    if not layers:
        return rs

    # The tree may have been fitted on an array: its columns are the last step's outputs, by position.
    n_tree = int(tree.n_features_in_)
    tree_names = getattr(tree, "feature_names_in_", None)
    tree_names = ([str(c) for c in tree_names] if tree_names is not None
                  else [f"x{i}" for i in range(n_tree)])
    last_out = layers[-1].output_names
    if len(last_out) != n_tree:
        raise RuleExportError(f"step {layers[-1].name!r} produces {len(last_out)} columns but the "
                              f"tree {tree_name!r} reads {n_tree}")
    rename = dict(zip(tree_names, last_out))

    rules, sources = [], []
    for rule in rs.rules:
        alternatives = [[dataclasses.replace(c, feature=rename[c.feature]) for c in rule.conditions]]
        for layer in reversed(layers):
            alternatives = [alt for conds in alternatives for alt in layer.invert(conds)]
        pieces = [_tighten(conds) for conds in alternatives]
        for conds in pieces:
            sources.append(rule.rule_id)
            if len(pieces) == 1:
                rules.append(dataclasses.replace(rule, conditions=tuple(conds), rule_id=None))
            else:
                rules.append(Rule(conds, rule.prediction))
    # A category list stays only where the column reaches the tree unchanged (a binner's
    # pass-through column); an encoder's codes or a renamed column would mislabel the text.
    categories = {f: v for f, v in rs.categories.items() if rename.get(f) == f and
                  all(isinstance(la, _BinnerStep) and f not in la.bands for la in layers)}
    out = _replace_rules(rs, rules, layers[0].input_names, _describe(steps), categories)
    renumber_scores(out, sources)
    return out


def _replace_rules(rs, rules, feature_names, model, categories=None):
    provenance = dict(rs.provenance)
    provenance["model"] = model
    return dataclasses.replace(rs, rules=rules, feature_names=tuple(feature_names),
                               provenance=provenance,
                               categories=rs.categories if categories is None else categories)
