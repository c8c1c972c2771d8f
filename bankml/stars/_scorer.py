"""Star points, contribution stars and service stars from the eight half-year inputs.

Scoring is one float64 matrix-vector product and one ``searchsorted`` per call, in
cache-sized blocks, so a whole bank's customer base is re-rated in seconds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .._dates import EXPECTED, parse_dates
from .._messages import first_positions as _first_positions
from .._messages import positions_text as _positions_text
from .._messages import raise_problems as _raise
from ..errors import DataError, InvalidParameterError, SchemaError
from ..labels import check_lang, column_label, term, value_label
from ..schema import COLUMNS, ID, STAR_INPUTS, Problem, _check_column
from ._policy import STAR_LEVELS, StarPolicy

__all__ = ["StarScorer", "ServiceStars", "MANUAL_COLUMNS", "AUDIT_COLUMNS"]

#: Columns of the ``manual=`` table of :meth:`StarScorer.service_star`.
MANUAL_COLUMNS = (ID, "level", "reason", "who", "when")
#: Columns of the audit table returned by :meth:`StarScorer.service_star`.
AUDIT_COLUMNS = (ID, "from_level", "to_level", "source", "rule", "reason", "who", "when")

# Rows per block: 8 inputs x 32k rows x 8 bytes = 2 MB, which stays in cache between the
# copy and the product and keeps peak memory near the size of the output.
_BLOCK = 1 << 15


def _bin(edges, points, out):
    """``np.searchsorted(edges, points, side="right")`` for a handful of sorted edges.

    Counting the edges each point reaches is branch-free, so on cache-sized blocks it runs
    several times faster than the binary search (tested equal to it).
    """
    np.greater_equal(points, edges[0], out=out.view(bool))
    for e in edges[1:]:
        out += (points >= e).view(np.int8)
    return out


def _float_column(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiu":
        return s.to_numpy()
    return s.to_numpy(dtype="float64", na_value=np.nan)


class ServiceStars(NamedTuple):
    """What :meth:`StarScorer.service_star` returns: ``levels, audit = ...``.

    ``levels`` is an int8 Series aligned to the input; ``audit`` has one row per change
    (columns :data:`AUDIT_COLUMNS`): ``source`` is ``"upgrade"`` (``rule`` names the holdings
    flag) or ``"manual"`` (``reason``, ``who``, ``when`` from the manual table).
    """

    levels: pd.Series
    audit: pd.DataFrame


class StarScorer:
    """Rate customers by the bank's star policy (DOMAIN.md section 1).

    Parameters
    ----------
    policy : StarPolicy, optional
        The policy to apply; ``None`` means :meth:`StarPolicy.default`.

    Examples
    --------
    >>> import pandas as pd
    >>> from bankml.schema import STAR_INPUTS
    >>> df = pd.DataFrame(0.0, index=[0, 1, 2], columns=STAR_INPUTS)
    >>> df.loc[0, "long_term_assets"] = 8_000_000   # 800 x 100 points: exactly 80,000
    >>> df.loc[1, "card_spend"] = 1_000             # 0.1 x 400 points: 40, quasi-star
    >>> scorer = StarScorer()
    >>> scorer.star_points(df).tolist()
    [80000.0, 40.0, 0.0]
    >>> scorer.contribution_star(df).tolist()
    [7, 1, 0]
    """

    def __init__(self, policy: StarPolicy | None = None):
        if policy is None:
            policy = StarPolicy.default()
        if not isinstance(policy, StarPolicy):
            # a bad parameter (bankml.errors); StarPolicy.from_dict / from_yaml read a mapping
            raise InvalidParameterError(
                f"policy must be a StarPolicy or None, got {type(policy).__name__}; build one "
                f"with StarPolicy.from_dict(...) or StarPolicy.from_yaml(path)")
        self.policy = policy

    # -- star points --------------------------------------------------------------------------
    def _input_columns(self, df) -> list[np.ndarray]:
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(f"expected a pandas DataFrame with the star inputs "
                              f"{list(STAR_INPUTS)}, got {type(df).__name__}")
        problems = []
        if df.columns.duplicated().any():
            dups = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
            problems.append(Problem(", ".join(dups), "duplicate column names", "each column once"))
        for c in STAR_INPUTS:
            if c not in df.columns:
                problems.append(Problem(c, "missing column", COLUMNS[c].description))
        if not problems:
            for c in STAR_INPUTS:
                dt = df[c].dtype
                if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt):
                    problems.append(Problem(c, f"wrong dtype {dt}", "numeric amounts in yuan"))
        if problems:
            _raise(SchemaError, "star inputs are not usable", problems)
        return [_float_column(df[c]) for c in STAR_INPUTS]

    def _diagnose(self, df):
        problems = []
        for c in STAR_INPUTS:
            _check_column(COLUMNS[c], df[c], problems)
        if not problems:  # finite non-negative inputs can still overflow the sum
            problems.append(Problem(None, "star points overflow", "finite sums"))
        _raise(SchemaError, "star inputs violate the schema", problems)

    def _score(self, df, levels=False):
        """Star points (and levels) in one pass over the inputs, block by block."""
        cols = self._input_columns(df)
        n = len(df)
        pol = self.policy
        w, unit, edges, level_of_bin = pol.weight_vector, pol.unit, pol.edges, pol.level_of_bin
        out = np.empty(n, dtype="float64")
        lv = np.empty(n, dtype="int8") if levels else None
        buf = np.empty((len(cols), min(_BLOCK, max(n, 1))), dtype="float64")
        idx = np.empty(buf.shape[1], dtype="int8")
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            b = buf[:, :stop - start]
            for j, col in enumerate(cols):
                b[j] = col[start:stop]
            o = out[start:stop]
            np.dot(w, b, out=o)
            # min() propagates NaN, so one reduction catches NaN and negatives; an infinite
            # input makes its point (or 0 * inf = NaN) non-finite, caught by the sum.
            if not (b.min() >= 0.0 and np.isfinite(o.sum())):
                self._diagnose(df)
            # Divide after the product: whole-yuan inputs then give exact points (8e8 / 1e4).
            o /= unit
            if levels:
                lv[start:stop] = level_of_bin.take(_bin(edges, o, idx[:stop - start]), mode="clip")
        return out, lv

    def _points_array(self, df) -> np.ndarray:
        return self._score(df)[0]

    def star_points(self, df: pd.DataFrame) -> pd.Series:
        """The star-point value (星点值) of each customer.

        Parameters
        ----------
        df : pandas.DataFrame
            One row per customer with the eight star inputs
            (:data:`bankml.schema.STAR_INPUTS`, yuan; balances as half-year daily averages,
            transactions as half-year cumulative amounts). Other columns are ignored.

        Returns
        -------
        pandas.Series
            float64 points named ``star_points``, aligned to ``df.index``.

        Raises
        ------
        SchemaError
            For a missing or non-numeric input column, NaN, infinite or negative values,
            naming the column and the first offending rows.

        Examples
        --------
        >>> import pandas as pd
        >>> from bankml.schema import STAR_INPUTS
        >>> row = dict.fromkeys(STAR_INPUTS, 0.0) | {"short_term_assets": 20_000.0}
        >>> StarScorer().star_points(pd.DataFrame([row])).tolist()   # 2 x 135
        [270.0]
        """
        return pd.Series(self._points_array(df), index=df.index, name="star_points")

    # -- contribution star -----------------------------------------------------------------------
    def _levels(self, points: np.ndarray) -> np.ndarray:
        pol = self.policy
        out = np.empty(points.shape, dtype="int8")
        idx = np.empty(min(_BLOCK, points.size), dtype="int8")
        for start in range(0, points.size, _BLOCK):
            stop = min(start + _BLOCK, points.size)
            out[start:stop] = pol.level_of_bin.take(
                _bin(pol.edges, points[start:stop], idx[:stop - start]), mode="clip")
        return out

    def contribution_star(self, data) -> pd.Series:
        """The contribution star (贡献星级): 7..3 stars, 1 quasi-star, 0 not rated.

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series or array-like
            Either a customer table with the star inputs, or star points already computed.

        Returns
        -------
        pandas.Series
            int8 levels named ``contribution_star``, aligned to the input.

        Examples
        --------
        >>> StarScorer().contribution_star([0, 1e-9, 49.99, 50, 499.9, 500, 2000,
        ...                                 9999.99, 10000, 79999.9, 80000]).tolist()
        [0, 1, 1, 3, 3, 4, 5, 5, 6, 6, 7]
        """
        if isinstance(data, pd.DataFrame):
            return pd.Series(self._score(data, levels=True)[1], index=data.index,
                             name="contribution_star")
        else:
            s = data if isinstance(data, pd.Series) else pd.Series(np.asarray(data))
            if s.ndim != 1:
                raise DataError("star points must be one-dimensional")
            if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise DataError(f"star points must be numeric, got dtype {s.dtype}")
            points, index = _float_column(s), s.index
            bad = ~(points >= 0) | ~np.isfinite(points)
            if bad.any():
                raise DataError(f"star points must be finite and >= 0; not in "
                                f"{_positions_text(*_first_positions(bad))}")
        return pd.Series(self._levels(points), index=index, name="contribution_star")

    # -- service star --------------------------------------------------------------------------------
    def _flags(self, df):
        problems = []
        flags = list(self.policy.upgrades)
        for f in flags:
            if f not in df.columns:
                problems.append(Problem(f, "missing column", COLUMNS[f].description))
            else:
                _check_column(COLUMNS[f], df[f], problems)
        if ID not in df.columns:
            problems.append(Problem(ID, "missing column", "customer ids, to name them in the audit"))
        if problems:
            _raise(SchemaError, "service stars need the holdings flags and customer ids", problems)
        return {f: df[f].to_numpy(dtype="int8") for f in flags}

    def _manual(self, manual, df) -> pd.DataFrame:
        if not isinstance(manual, pd.DataFrame):
            raise DataError(f"manual must be a DataFrame with columns {list(MANUAL_COLUMNS)}, "
                            f"got {type(manual).__name__}")
        missing = [c for c in MANUAL_COLUMNS if c not in manual.columns]
        extra = [str(c) for c in manual.columns if c not in MANUAL_COLUMNS]
        problems = []
        if missing:
            problems.append(Problem(", ".join(missing), "missing columns",
                                    f"the columns {list(MANUAL_COLUMNS)}"))
        if extra:
            problems.append(Problem(", ".join(extra), "unexpected columns",
                                    f"only {list(MANUAL_COLUMNS)}"))
        if problems:
            _raise(DataError, "manual adjustments are not usable", problems)
        idx = manual.index
        for c in MANUAL_COLUMNS:
            na = manual[c].isna().to_numpy()
            if na.any():
                problems.append(Problem(c, "missing values", "a value in every row", *_first_positions(na)))
        lv = pd.to_numeric(manual["level"], errors="coerce")
        bad = ~lv.isin(STAR_LEVELS).to_numpy() & manual["level"].notna().to_numpy()
        if bad.any():
            problems.append(Problem("level", "not a star level", f"one of {list(STAR_LEVELS)}",
                                    *_first_positions(bad)))
        # year first only: a manual 06/07/2024 must not be guessed into June or July
        when, bad, problem = parse_dates(manual["when"])
        if problem is not None:
            problems.append(Problem("when", problem, EXPECTED))
        if bad.any():
            problems.append(Problem("when", "not a date/time", EXPECTED, *_first_positions(bad)))
        dup = manual[ID].duplicated(keep=False).to_numpy() & manual[ID].notna().to_numpy()
        if dup.any():
            problems.append(Problem(ID, "more than one adjustment for a customer",
                                    "at most one row per customer", *_first_positions(dup)))
        scored = pd.Index(df[ID])
        if not scored.is_unique:  # an adjustment for a repeated id would hit an arbitrary row
            dup = scored.duplicated(keep=False) & scored.notna()
            _raise(SchemaError, "manual adjustments need unique customer ids in the scored table",
                   [Problem(ID, "duplicate customer ids", "each id once",
                            *_first_positions(dup))])
        pos = scored.get_indexer(manual[ID])
        unknown = (pos < 0) & manual[ID].notna().to_numpy()
        if unknown.any():
            problems.append(Problem(ID, "customer not in the scored table",
                                    "ids of the scored customers", *_first_positions(unknown)))
        if problems:
            _raise(DataError, "manual adjustments are not usable", problems)
        return pd.DataFrame({"pos": pos, "level": lv.to_numpy(dtype="int8"),
                             "reason": manual["reason"].to_numpy(dtype=object),
                             "who": manual["who"].to_numpy(dtype=object),
                             "when": when.to_numpy()})

    def service_star(self, df: pd.DataFrame, manual: pd.DataFrame | None = None) -> ServiceStars:
        """The service star (服务星级): contribution star, instant upgrades, manual adjustments.

        Instant upgrades only raise a level: each holdings flag set to 1 lifts the customer to
        at least its level in ``policy.upgrades``. A manual adjustment then sets the level it
        names; whether it may also lower the level is ``policy.manual_can_lower`` (DOMAIN.md
        restricts only instant upgrades to upward moves, so the default policy allows it). An
        adjustment that would lower the level under a policy that forbids it raises DataError.

        Parameters
        ----------
        df : pandas.DataFrame
            Customer table with ``customer_id``, the star inputs and the holdings flags the
            policy's upgrades name.
        manual : pandas.DataFrame, optional
            One row per adjusted customer with columns :data:`MANUAL_COLUMNS`
            (``customer_id``, ``level``, ``reason``, ``who``, ``when``).

        Returns
        -------
        ServiceStars
            A named tuple ``(levels, audit)``: ``levels`` an int8 Series named
            ``service_star`` aligned to ``df``; ``audit`` one row per change, saying which
            rule (holdings flag) or which person changed each customer's level.

        Examples
        --------
        >>> import pandas as pd
        >>> from bankml.schema import HOLDING_FLAGS, STAR_INPUTS
        >>> df = pd.DataFrame(0.0, index=range(3), columns=STAR_INPUTS)
        >>> df[list(HOLDING_FLAGS)] = 0
        >>> df["customer_id"] = ["a", "b", "c"]
        >>> df.loc[0, "has_gold_card"] = 1
        >>> manual = pd.DataFrame({"customer_id": ["b"], "level": [6], "reason": ["VIP"],
        ...                        "who": ["mgr01"], "when": ["2024-06-30"]})
        >>> levels, audit = StarScorer().service_star(df, manual=manual)
        >>> levels.tolist()
        [5, 6, 0]
        >>> audit[["customer_id", "from_level", "to_level", "rule"]].to_string(index=False)
        'customer_id  from_level  to_level         rule\\n          a           0         5 has_gold_card\\n          b           0         6       manual'
        """
        base = self._score(df, levels=True)[1]
        flags = self._flags(df)
        level = base.copy()
        rule = np.full(len(df), -1, dtype="int16")
        names = list(flags)
        # Flags are ordered highest level first: the first flag that raises a level decides it.
        for k, f in enumerate(names):
            target = np.int8(self.policy.upgrades[f])
            hit = (flags[f] == 1) & (level < target)
            level[hit] = target
            rule[hit] = k
        changed = np.flatnonzero(level != base)
        ids = df[ID].to_numpy(dtype=object)
        parts = [pd.DataFrame({
            ID: ids[changed], "from_level": base[changed], "to_level": level[changed],
            "source": "upgrade", "rule": np.asarray(names, dtype=object)[rule[changed]],
            "reason": None, "who": None, "when": pd.NaT})] if changed.size else []
        if manual is not None:
            m = self._manual(manual, df)
            pos = m["pos"].to_numpy()
            before, after = level[pos], m["level"].to_numpy()
            if not self.policy.manual_can_lower:
                lower = after < before
                if lower.any():
                    raise DataError(f"manual adjustments would lower service stars, which this "
                                    f"policy forbids (manual_can_lower: false): manual table "
                                    f"{_positions_text(*_first_positions(lower))}")
            diff = after != before
            level[pos] = after
            if diff.any():
                md = m[diff]
                parts.append(pd.DataFrame({
                    ID: ids[md["pos"].to_numpy()], "from_level": before[diff],
                    "to_level": after[diff], "source": "manual", "rule": "manual",
                    "reason": md["reason"].to_numpy(), "who": md["who"].to_numpy(),
                    "when": md["when"].to_numpy()}))
        audit = (pd.concat(parts, ignore_index=True) if parts
                 else pd.DataFrame({c: pd.Series(dtype=object) for c in AUDIT_COLUMNS}))
        audit = audit[list(AUDIT_COLUMNS)]
        if len(audit):
            audit["from_level"] = audit["from_level"].astype("int8")
            audit["to_level"] = audit["to_level"].astype("int8")
        return ServiceStars(pd.Series(level, index=df.index, name="service_star"), audit)

    # -- explanation ---------------------------------------------------------------------------------
    def explain(self, customer, lang: str = "en") -> pd.DataFrame:
        """The points each of the eight items contributed for one customer.

        Parameters
        ----------
        customer : pandas.Series, dict or one-row pandas.DataFrame
            The customer's eight star inputs (other fields are ignored).
        lang : {"en", "zh"}
            Language of the item names and the measure.

        Returns
        -------
        pandas.DataFrame
            Indexed by the input column names plus ``total``, with columns ``item`` (label),
            ``measured_as``, ``amount`` (yuan), ``weight`` (points per 10,000 yuan) and
            ``points``. The ``total`` row holds the yuan summed over the items, the average
            weight they earned (0 when nothing is held) and the star points; no NaN.
            ``attrs["contribution_star"]`` holds the level's label.

        Examples
        --------
        >>> from bankml.schema import STAR_INPUTS
        >>> row = dict.fromkeys(STAR_INPUTS, 0.0) | {"long_term_assets": 50_000.0,
        ...                                          "card_spend": 12_500.0}
        >>> table = StarScorer().explain(row, lang="zh")
        >>> table.loc["card_spend", "item"], table.loc["card_spend", "measured_as"]
        ('刷卡消费额', '半年累计发生额')
        >>> table["points"].tolist()
        [0.0, 500.0, 0.0, 0.0, 0.0, 0.0, 500.0, 0.0, 1000.0]
        >>> table.attrs["contribution_star"]
        '四星级'
        """
        check_lang(lang)
        if isinstance(customer, pd.DataFrame):
            if len(customer) != 1:
                raise DataError(f"explain takes one customer; got a table of {len(customer)} rows")
            frame = customer
        elif isinstance(customer, (pd.Series, dict)):
            frame = pd.DataFrame([dict(customer)])
        else:
            raise DataError(f"customer must be a Series, dict or one-row DataFrame, "
                            f"got {type(customer).__name__}")
        points = self._points_array(frame)[0]  # validates the inputs first
        amounts = np.array([_float_column(frame[c])[0] for c in STAR_INPUTS], dtype="float64")
        pol = self.policy
        w = pol.weight_vector
        contrib = amounts * w / pol.unit
        # The total row is numbers, not NaN (a NaN there reads as "unknown" in a printed
        # table and breaks sums): the yuan counted over the eight items, and the weight they
        # earned on average (points per unit), 0 when nothing was held.
        total_amount = float(amounts.sum())
        total_weight = float(points * pol.unit / total_amount) if total_amount > 0 else 0.0
        table = pd.DataFrame({
            "item": [column_label(c, lang) for c in STAR_INPUTS] + [column_label("star_points", lang)],
            "measured_as": [term(f"stars_{pol.measures[c]}", lang) for c in STAR_INPUTS] + [""],
            "amount": np.append(amounts, total_amount),
            "weight": np.append(w, total_weight),
            "points": np.append(contrib, points),
        }, index=pd.Index(list(STAR_INPUTS) + ["total"], name="input"))
        level = int(self._levels(np.array([points]))[0])
        table.attrs["contribution_star"] = value_label("star", level, lang)
        table.attrs["level"] = level
        return table

    def __repr__(self):
        return f"StarScorer(policy={self.policy!r})"

