"""Customer value analyses (DOMAIN.md 3): RFM, ABC (Pareto) classes, lifetime value, pyramid.

Small functions, pandas in and pandas out, in the style of mlxtend and lifetimes.
"""

from ._clv import customer_lifetime_value
from ._pareto import ABCResult, PyramidResult, abc, pyramid
from ._rfm import rfm

__all__ = ["rfm", "abc", "customer_lifetime_value", "pyramid", "ABCResult", "PyramidResult"]
