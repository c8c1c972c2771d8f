"""Customer lifetime value: the discounted margin a customer brings while retained.

One closed formula, vectorised over arrays so a whole portfolio is valued in one call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["customer_lifetime_value"]


def _array(name, x):
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"customer_lifetime_value: {name} must be numeric, got {x!r:.80}") from None
    if a.size == 0:
        raise DataError(f"customer_lifetime_value: {name} is empty")
    bad = np.isnan(a)
    if bad.any():
        what = "all values" if bad.all() else f"{int(bad.sum())} of {a.size} values"
        raise DataError(f"customer_lifetime_value: {name} is missing (NaN) in {what}")
    return a


def customer_lifetime_value(margin, retention, discount, horizon=np.inf):
    r"""Customer lifetime value from yearly margin, retention and discount rates.

    .. math::

        CLV = \sum_{t=1}^{H} \frac{m \, r^{t-1}}{(1+d)^t}
            = \frac{m}{1+d-r}\left(1 - \left(\frac{r}{1+d}\right)^{H}\right)

    The margin ``m`` of year ``t`` arrives at the end of that year; the customer is there in
    year 1 and stays each further year with probability ``r``; ``d`` discounts one year. With
    ``H = inf`` this is the classic ``m / (1 + d - r)``.

    Parameters
    ----------
    margin : float or array-like
        Yearly margin (profit) per customer, yuan. Negative margins (below-zero customers)
        give negative values.
    retention : float or array-like
        Yearly retention probability in [0, 1].
    discount : float or array-like
        Yearly discount rate >= 0.
    horizon : int, float or array-like, default inf
        Number of years H, a whole number >= 0, or ``inf``.

    Returns
    -------
    float, ndarray, or Series
        Broadcast over the inputs; a Series (index and name kept) when ``margin`` is one.

    Raises
    ------
    DataError
        Missing values, an infinite margin, retention outside [0, 1], negative discount, a
        horizon that is not a whole number of years, or an infinite value (retention 1,
        discount 0, horizon inf).

    Examples
    --------
    >>> round(customer_lifetime_value(100, 0.8, 0.1, 3), 3)
    205.109
    >>> round(customer_lifetime_value(100, 0.8, 0.1), 3)
    333.333
    >>> customer_lifetime_value([100, 200], 0.5, 0.0, 2).tolist()
    [150.0, 300.0]
    """
    m = _array("margin", margin)
    r = _array("retention", retention)
    d = _array("discount", discount)
    h = _array("horizon", horizon)
    if np.isinf(m).any():
        raise DataError(f"customer_lifetime_value: margin is infinite in {int(np.isinf(m).sum())} "
                        f"of {m.size} values; give finite yearly margins")
    if ((r < 0) | (r > 1)).any():
        raise DataError("customer_lifetime_value: retention must be a probability in [0, 1]")
    if (d < 0).any() or np.isinf(d).any():
        raise DataError("customer_lifetime_value: discount must be a finite rate >= 0")
    finite_h = np.isfinite(h)
    if (h < 0).any() or (finite_h & (h != np.floor(np.where(finite_h, h, 0)))).any():
        raise DataError("customer_lifetime_value: horizon must be a whole number of years >= 0, or inf")
    m, r, d, h = np.broadcast_arrays(m, r, d, h)
    q = r / (1.0 + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(np.isinf(h), 0.0, q ** np.where(np.isinf(h), 0.0, h))
        geometric = np.where(q == 1.0, h, (1.0 - tail) / (1.0 - q))
        value = m / (1.0 + d) * geometric
    if np.isinf(value).any() or np.isnan(value).any():
        raise DataError("customer_lifetime_value: infinite value where retention is 1, discount "
                        "0 and the horizon infinite; give a finite horizon or a discount > 0")
    if isinstance(margin, pd.Series) and value.shape == (len(margin),):
        return pd.Series(value, index=margin.index, name=margin.name)
    return value.item() if value.ndim == 0 else value
