"""Concept description (DOMAIN.md 2, step 1): characterise a customer class, contrast it with another.

Attributes are generalised by concept hierarchies, then stated as quantitative rules with
t-weight (typicality within the class) and d-weight (share of the class among the classes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._messages import row_positions
from ..errors import DataError
from ..labels import check_lang, column_label, value_label
from ..schema import ID
from ..tree import ConceptHierarchyBinner
from ._config import segment_config

__all__ = ["characterize", "discriminate", "concept_text"]

_RESULT_COLUMNS = ("count", "count_target", "count_contrast", "t_weight", "d_weight", "condition")


def _mask(df: pd.DataFrame, mask, name: str) -> np.ndarray:
    """A validated boolean numpy mask over the rows of ``df``."""
    if mask is None:
        raise DataError(f"{name} is required: a boolean mask over the table's rows")
    if isinstance(mask, pd.Series):
        if len(mask) == len(df) and not mask.index.equals(df.index):
            raise DataError(f"{name}: its index does not match the table's index; build it from "
                            "the same table (e.g. df['wm_buyer'] == 1) or pass a numpy array")
        values = mask
    else:
        values = pd.Series(np.asarray(mask).ravel() if np.ndim(mask) else [mask])
    if len(values) != len(df):
        raise DataError(f"{name} has {len(values)} entries but the table has {len(df)} rows")
    if values.isna().any():
        raise DataError(f"{name} has {int(values.isna().sum())} missing entries; it must be True/False "
                        "for every row")
    if pd.api.types.is_bool_dtype(values.dtype):
        out = values.to_numpy(dtype=bool)
    elif pd.api.types.is_integer_dtype(values.dtype) and values.isin([0, 1]).all():
        out = values.to_numpy(dtype=np.int64) == 1
    else:
        raise DataError(f"{name} must be boolean (or 0/1), got dtype {values.dtype}")
    if not out.any():
        raise DataError(f"{name} selects no rows: the class is empty, so there is nothing to describe")
    return out


def _generalise(df: pd.DataFrame, attributes, bands) -> tuple[pd.DataFrame, list, set]:
    """The attributes of ``df`` generalised to concept levels (bands for numeric ones)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise DataError("the table is empty (0 rows)")
    cfg = segment_config()["concept"]
    all_bands = {**cfg["bands"], **(bands or {})}
    attrs = list(attributes) if attributes is not None else [c for c in df.columns if c != ID]
    if not attrs:
        raise DataError("no attributes to describe; pass attributes=[...]")
    missing = [c for c in attrs if c not in df.columns]
    if missing:
        raise DataError(f"attributes {missing} are not columns of the table (columns: {list(df.columns)})")
    clash = [c for c in attrs if c in _RESULT_COLUMNS]
    if clash:
        raise DataError(f"attributes {clash} have the names of result columns; rename them first")
    to_band, problems = {}, []
    for c in attrs:
        s = df[c]
        if s.isna().all():
            raise DataError(f"attribute {c!r} is entirely missing (all {len(s)} values NaN); "
                            "drop it from attributes=")
        if (pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)
                or not pd.api.types.is_numeric_dtype(s.dtype)):
            continue
        if c in all_bands:
            to_band[c] = all_bands[c]
        elif s.nunique() > cfg["max_levels"]:
            problems.append(f"{c!r} ({s.nunique()} distinct values)")
    if problems:
        raise DataError("numeric attributes " + ", ".join(problems) + " need a concept hierarchy: "
                        "give cut points in bands={column: [cut, ...]} (or in configs/segment.yaml "
                        "concept.bands), or leave them out of attributes=")
    G = df[attrs]
    if to_band:
        G = ConceptHierarchyBinner(bands=to_band).fit_transform(G)
    return G, attrs, set(to_band)


def _count(G: pd.DataFrame, rows: np.ndarray, attrs: list) -> pd.Series:
    counts = G.loc[rows, attrs].value_counts(dropna=False, sort=False)
    return counts[counts > 0]  # categorical attributes also list unseen combinations


def _entropy(counts: np.ndarray) -> np.ndarray:
    """Entropy in bits of each row of class counts."""
    tot = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tot > 0, counts / tot, 0.0)
        logs = np.where(p > 0, np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return -(p * logs).sum(axis=-1)


def _relevance(G, attrs, target, contrast) -> dict:
    """Information gain of each generalised attribute for telling target from contrast."""
    rows = target | contrast
    y = target[rows]
    base = _entropy(np.array([y.sum(), (~y).sum()], dtype=float))
    gains = {}
    for c in attrs:
        codes = pd.factorize(G.loc[rows, c], use_na_sentinel=False)[0]
        k = codes.max() + 1
        table = np.column_stack([np.bincount(codes[y], minlength=k),
                                 np.bincount(codes[~y], minlength=k)]).astype(float)
        weights = table.sum(axis=1) / y.size
        gains[c] = float(base - (weights * _entropy(table)).sum())
    return gains


def _select(G, attrs, target, contrast, max_attributes):
    gains = _relevance(G, attrs, target, contrast)
    if max_attributes is None:
        return attrs, gains
    if isinstance(max_attributes, bool) or not isinstance(max_attributes, (int, np.integer)) \
            or max_attributes < 1:
        raise DataError(f"max_attributes must be a positive integer, got {max_attributes!r}")
    ranked = sorted(attrs, key=lambda c: -gains[c])  # stable: ties keep the given order
    keep = set(ranked[:max_attributes])
    return [c for c in attrs if c in keep], gains


def _finish(table: pd.DataFrame, attrs: list, sort_by: list, kind: str, target_name, contrast_name,
            banded, lang, G, relevance) -> pd.DataFrame:
    # restore the attribute dtypes (value_counts' MultiIndex drops categorical order)
    for c in attrs:
        if isinstance(G[c].dtype, pd.CategoricalDtype):
            table[c] = pd.Categorical(table[c], categories=G[c].cat.categories,
                                      ordered=G[c].cat.ordered)
    table = table.sort_values(sort_by + attrs, ascending=[False] * len(sort_by) + [True] * len(attrs),
                              kind="stable", na_position="last").reset_index(drop=True)
    table.attrs.update({"kind": kind, "attributes": attrs, "banded": sorted(banded),
                        "target_name": target_name, "contrast_name": contrast_name,
                        "relevance": relevance})
    table["condition"] = _conditions(table, attrs, banded, lang)
    return table


def _conditions(table, attrs, banded, lang):
    texts = segment_config()["concept"]["texts"]
    parts = []
    for c in attrs:
        label = column_label(c, lang)
        col = table[c].astype(object).to_numpy()
        if c in banded:
            part = [f"{label} {texts['missing'][lang]}" if pd.isna(v) else f"{label} {v}" for v in col]
        else:
            part = [f"{label} = {texts['missing'][lang] if pd.isna(v) else value_label(c, v, lang)}"
                    for v in col]
        parts.append(part)
    return [texts["and"][lang].join(p) for p in zip(*parts)] if parts else []


def characterize(df, mask, *, attributes=None, bands=None, max_attributes=None, target_name=None,
                 lang="en"):
    """Quantitative characteristic rules of a class: its generalised tuples with t-weights.

    Each attribute is generalised (numeric ones to the bands of a concept hierarchy), the
    class's rows are grouped by their generalised tuple, and each tuple's **t-weight** is
    its share of the class: ``count(tuple in class) / class size``. Together the rows state
    the rule ``class(X) => tuple_1 [t: w_1] OR tuple_2 [t: w_2] ...`` (see
    :func:`concept_text`).

    Parameters
    ----------
    df : pandas.DataFrame
        Customers.
    mask : boolean array-like or Series
        The class to describe (True rows). A Series must share ``df``'s index.
    attributes : list of str, optional
        Attributes to generalise; default every column but ``customer_id``.
    bands : dict of str -> list of float, optional
        Cut points per numeric attribute (right-closed bands, as in
        :class:`bankml.tree.ConceptHierarchyBinner`), over the defaults of
        ``configs/segment.yaml: concept.bands``. A numeric attribute with neither bands nor
        at most ``concept.max_levels`` distinct values is refused.
    max_attributes : int, optional
        Relevance analysis: keep only this many attributes, those with the highest
        information gain for telling the class from the other rows (ties keep the given
        order). The gains of all attributes are in ``result.attrs["relevance"]``.
    target_name : str, optional
        Name of the class in the rule text.
    lang : {"en", "zh"}
        Language of the ``condition`` column.

    Returns
    -------
    pandas.DataFrame
        One row per generalised tuple of the class: the attributes, ``count``, ``t_weight``
        and ``condition`` (text), most typical first. Missing values form their own level.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [25, 40, 60, 45, 28], "gender": ["F", "F", "M", "F", "M"],
    ...                    "wm_buyer": [1, 1, 1, 0, 0]})
    >>> t = characterize(df, df["wm_buyer"] == 1, attributes=["age", "gender"])
    >>> print(t[["age", "gender", "count", "t_weight"]].round(3).to_string(index=False))
      age gender  count  t_weight
     <=30      F      1     0.333
    30-55      F      1     0.333
      >55      M      1     0.333
    """
    check_lang(lang)
    G, attrs, banded = _generalise(df, attributes, bands)
    target = _mask(df, mask, "mask")
    if max_attributes is not None and target.all():
        raise DataError("max_attributes needs other rows to rank attributes against, but the "
                        "mask selects every row")
    attrs, gains = _select(G, attrs, target, ~target, max_attributes)
    counts = _count(G, target, attrs)
    table = counts.rename("count").reset_index()
    table["t_weight"] = table["count"] / target.sum()
    return _finish(table, attrs, ["count"], "characteristic", target_name, None,
                   banded & set(attrs), lang, G, gains)


def discriminate(df, target_mask, contrast_mask=None, *, attributes=None, bands=None,
                 max_attributes=None, target_name=None, contrast_name=None, lang="en"):
    """Quantitative discriminant rules: what sets a target class apart from a contrast class.

    For each generalised tuple that occurs in the target class, the **d-weight** is the
    share of the target among the classes holding it:
    ``count(tuple in target) / (count(tuple in target) + count(tuple in contrast))``;
    its t-weight within the target is given too.

    Parameters
    ----------
    df : pandas.DataFrame
        Customers.
    target_mask : boolean array-like or Series
        The target class.
    contrast_mask : boolean array-like or Series, optional
        The contrasting class; default all other rows. Must not overlap the target.
    attributes, bands, lang :
        As in :func:`characterize`.
    max_attributes : int, optional
        Keep the attributes with the highest information gain for telling target from
        contrast (all gains in ``result.attrs["relevance"]``).
    target_name, contrast_name : str, optional
        Class names for the rule text.

    Returns
    -------
    pandas.DataFrame
        One row per generalised tuple found in the target: the attributes,
        ``count_target``, ``count_contrast``, ``t_weight``, ``d_weight`` and ``condition``,
        most discriminating first (then most frequent).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["F", "F", "M", "F", "M"], "wm_buyer": [1, 1, 1, 0, 0]})
    >>> d = discriminate(df, df["wm_buyer"] == 1, attributes=["gender"])
    >>> print(d[["gender", "count_target", "count_contrast", "d_weight"]].round(3).to_string(index=False))
    gender  count_target  count_contrast  d_weight
         F             2               1     0.667
         M             1               1     0.500
    """
    check_lang(lang)
    G, attrs, banded = _generalise(df, attributes, bands)
    target = _mask(df, target_mask, "target_mask")
    if contrast_mask is None:
        contrast = ~target
        if not contrast.any():
            raise DataError("target_mask selects every row, so there is no contrasting class; "
                            "pass contrast_mask or a narrower target")
    else:
        contrast = _mask(df, contrast_mask, "contrast_mask")
    both = target & contrast
    if both.any():
        raise DataError(f"target_mask and contrast_mask overlap in {row_positions(both)}; "
                        "the classes must be disjoint")
    attrs, gains = _select(G, attrs, target, contrast, max_attributes)
    ct = _count(G, target, attrs).rename("count_target")
    cc = _count(G, contrast, attrs).rename("count_contrast")
    joined = pd.concat([ct, cc], axis=1).fillna(0).astype("int64")
    joined = joined[joined["count_target"] > 0]
    table = joined.reset_index()
    table.columns = attrs + ["count_target", "count_contrast"]
    table["t_weight"] = table["count_target"] / target.sum()
    table["d_weight"] = table["count_target"] / (table["count_target"] + table["count_contrast"])
    return _finish(table, attrs, ["d_weight", "count_target"], "discriminant", target_name,
                   contrast_name, banded & set(attrs), lang, G, gains)


def concept_text(table, *, lang="en", top=None, target_name=None):
    """The whole quantitative rule of a :func:`characterize` / :func:`discriminate` table.

    Parameters
    ----------
    table : pandas.DataFrame
        A result of :func:`characterize` or :func:`discriminate`.
    lang : {"en", "zh"}
    top : int, optional
        Only the first ``top`` tuples.
    target_name : str, optional
        Overrides the class name recorded in the table.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["F", "F", "M", "F", "M"], "wm_buyer": [1, 1, 1, 0, 0]})
    >>> t = characterize(df, df["wm_buyer"] == 1, attributes=["gender"], target_name="WM")
    >>> concept_text(t)
    'for all X, WM(X) ⇒ [gender = female] [t: 66.67%] OR [gender = male] [t: 33.33%]'
    >>> concept_text(t, lang="zh")
    '对所有 X，WM(X) ⇒ [性别 = 女] [典型度 t: 66.67%] 或 [性别 = 男] [典型度 t: 33.33%]'
    """
    check_lang(lang)
    kind = table.attrs.get("kind")
    if kind not in ("characteristic", "discriminant"):
        raise DataError("concept_text needs a table returned by characterize() or discriminate()")
    texts = segment_config()["concept"]["texts"]
    rows = table if top is None else table.head(top)
    attrs = table.attrs["attributes"]
    conds = _conditions(rows, attrs, set(table.attrs["banded"]), lang)
    if kind == "characteristic":
        weights = [f"[{texts['t_weight'][lang]}: {w:.2%}]" for w in rows["t_weight"]]
    else:
        weights = [f"[{texts['d_weight'][lang]}: {w:.2%}]" for w in rows["d_weight"]]
    body = texts["or"][lang].join(f"[{c}] {w}" for c, w in zip(conds, weights))
    name = target_name or table.attrs.get("target_name") or texts["target"][lang]
    return texts[kind][lang].format(target=name, conditions=body)
