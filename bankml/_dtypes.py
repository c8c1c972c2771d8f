"""One answer to "is this column a category or a number?", shared by schema, tree and rules.

A bool column is a category (a flag with two named values), as are text, object and
pandas categorical columns; every other numeric dtype is a number.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["is_categorical_dtype"]


def is_categorical_dtype(dtype) -> bool:
    """True for text, object, pandas categorical and bool dtypes.

    >>> import numpy as np
    >>> is_categorical_dtype(np.dtype(bool)), is_categorical_dtype(np.dtype("int64"))
    (True, False)
    >>> is_categorical_dtype(pd.StringDtype()), is_categorical_dtype(np.dtype(object))
    (True, True)
    """
    return (isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
            or pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype))
