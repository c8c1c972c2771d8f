"""The 100-customer worked example of the 2009 bank-CRM decision-tree paper (DOMAIN.md s.2)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

_COLUMNS = ("age_band", "deposit_band", "education", "gender", "wm_buyer")


def load_seed_example(*, categorical: bool = True) -> pd.DataFrame:
    """The paper's 100 sample customers, 16 of them wealth-management (WM) buyers.

    Coded as the paper codes them: ``age_band`` 1 (<=30), 2 (30-55), 3 (>55);
    ``deposit_band`` 1 (<=500), 2 (500-2500), 3 (>2500); ``education`` 1 university,
    0 other; ``gender`` 1 male, 0 female; ``wm_buyer`` 1 buyer, 0 not.

    The table was built (by a search over integer counts) to match the published figures:

    ========================  ===========  ==========  ======================================
    figure                    published    this table  note
    ========================  ===========  ==========  ======================================
    I(s1, s2) (root entropy)  0.63431      0.63431     exact: 16 buyers in 100
    I, deposit <= 500         0.59167      0.59167     exact: 2 buyers in 14 (ratio 1:6)
    I, deposit > 2500         0.82685      0.82563     not reachable, see below (7 in 27)
    E(deposit)                0.61579      0.61577     59 customers (7 buyers) in 500-2500
    Gain(deposit)             0.01852      0.01854     highest gain: the root
    Gain(education)           0.01772      0.01772     exact to 5 decimals (51 univ., 11 buyers)
    Gain(gender)              0.01447      0.01454     closest integers (18 women, 5 buyers)
    Gain(age)                 (not given)  0.00088     lowest
    ========================  ===========  ==========  ======================================

    0.82685 is not the entropy of any split of at most 100 customers (the nearest
    reachable values are 0.82563 and 0.82806), so the published figures are not mutually
    consistent to five decimals; the table matches the root entropy exactly and the rest as
    closely as integer counts allow. An ID3 tree grown on it puts deposit at the root and
    yields the paper's three WM rules: deposit > 2500 and age > 55; deposit > 2500 (and age
    30-55) and university; deposit <= 500 and female.

    Parameters
    ----------
    categorical : bool, default True
        Return the four attributes as pandas categoricals (so that
        :class:`bankml.tree.InfoGainTreeClassifier` splits them multiway, as ID3 does);
        with False they are plain integers. ``wm_buyer`` is always an integer.

    Returns
    -------
    pandas.DataFrame
        100 rows, columns ``age_band``, ``deposit_band``, ``education``, ``gender``,
        ``wm_buyer``.

    Examples
    --------
    >>> df = load_seed_example()
    >>> len(df), int(df["wm_buyer"].sum())
    (100, 16)
    """
    with resources.files("bankml.datasets").joinpath("data/seed_example.csv").open("rb") as fh:
        df = pd.read_csv(fh, dtype="int64")
    df = df[list(_COLUMNS)]
    if categorical:
        for col in _COLUMNS[:-1]:
            df[col] = pd.Categorical(df[col], categories=sorted(df[col].unique()),
                                     ordered=col.endswith("_band"))
    return df
