"""Where the customers come from: one `DataSource` (synthetic, CSV, Parquet or a DataFrame).

Reading turns every way a file can be unusable (empty, not UTF-8, corrupt, a folder) into a
`DataError` naming the file, and never lets an index label (a customer id) into a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..labels import DEFAULT_LANG
from ..schema import ID
from ._text import text

__all__ = ["DataSource", "DataResult"]

_CSV = (".csv",)
_PARQUET = (".parquet", ".pq")
# a reader's own message can be long (pyarrow quotes footers); a person needs its first line
_MAX_REASON = 160


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON - 3] + "..."


@dataclass(frozen=True)
class DataSource:
    """One source of customers: ``kind`` is "synthetic", "csv", "parquet" or "frame".

    Build it with :meth:`from_config`; :meth:`read` returns a :class:`DataResult`;
    :meth:`describe` says what was read without naming any customer.

    Examples
    --------
    >>> src = DataSource.synthetic(300, seed=1)
    >>> got = src.read()
    >>> len(got.frame), src.describe(lang="en")
    (300, 'synthetic make_customers(n=300, seed=1)')
    """

    kind: str
    path: Path | None = None
    n: int | None = None
    seed: int | None = None
    encoding: str = "utf-8"
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @classmethod
    def synthetic(cls, n: int, seed: int = 0) -> "DataSource":
        return cls("synthetic", n=int(n), seed=int(seed))

    @classmethod
    def from_config(cls, cfg: dict, data=None) -> "DataSource":
        """The source ``data`` names (a DataFrame or a path), else the config's ``data``."""
        encoding = cfg["data"].get("encoding") or "utf-8"
        if isinstance(data, pd.DataFrame):
            return cls("frame", frame=data)
        where = data if data is not None else cfg["data"]["path"]
        if where is None:
            syn = cfg["data"]["synthetic"]
            return cls.synthetic(syn["n"], syn["seed"])
        path = Path(where)
        suffix = path.suffix.lower()
        kind = "csv" if suffix in _CSV else "parquet" if suffix in _PARQUET else None
        if not path.exists():
            raise DataError(f"data file {path} does not exist")
        if path.is_dir():
            raise DataError(f"data path {path} is a folder; expected a .csv or .parquet file")
        if kind is None:
            raise DataError(f"data file {path.name}: expected a .csv or .parquet file, "
                            f"got {suffix or 'no suffix'!r}")
        return cls(kind, path=path, encoding=encoding)

    # ------------------------------------------------------------------ reading
    def read(self, columns=None) -> "DataResult":
        """The table (index reset to row positions) and, for synthetic data, the truth.

        ``columns`` keeps only those columns (the ones present; a missing one is left for
        validation to name).
        """
        truth = None
        if self.kind == "synthetic":
            from ..datasets import make_customers

            df, truth = make_customers(self.n, seed=self.seed, return_truth=True)
        elif self.kind == "frame":
            df = self.frame
        elif self.kind == "csv":
            df = self._read_csv()
        else:
            df = self._read_parquet()
        df = _positional(df)
        if columns is not None:
            df = df[[c for c in df.columns if c in set(columns)]]
        if len(df) == 0:
            raise DataError(f"{self._name()} has no customer rows (a header only, or empty)")
        return DataResult(df, truth, self)

    def _name(self) -> str:
        return f"data file {self.path.name}" if self.path is not None else "the data"

    def _read_csv(self) -> pd.DataFrame:
        if self.path.stat().st_size == 0:
            raise DataError(f"{self._name()} is empty (0 bytes); expected a header row and one "
                            "row per customer")
        try:
            return pd.read_csv(self.path, dtype={ID: "string"}, encoding=self.encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{self._name()} is not {self.encoding} text (undecodable byte at offset "
                f"{exc.start}); re-save it as UTF-8, or set data.encoding (e.g. gb18030 for "
                "a GBK/GB2312 file)") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{self._name()} holds no header row and no customers") from None
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            raise DataError(f"{self._name()} cannot be read as CSV: {_reason(exc)}") from None

    def _read_parquet(self) -> pd.DataFrame:
        try:
            return pd.read_parquet(self.path)
        except ImportError:
            raise
        except Exception as exc:  # pyarrow's errors share no base class with pandas'
            raise DataError(f"{self._name()} cannot be read as Parquet (corrupt, truncated or "
                            f"not Parquet): {_reason(exc)}") from None

    # ------------------------------------------------------------------ describing
    def describe(self, n_rows: int | None = None, lang: str = DEFAULT_LANG) -> str:
        """What was read, in ``lang``; names a file, never a customer."""
        if self.kind == "synthetic":
            call = f"make_customers(n={self.n:,}, seed={self.seed})"
            return text("pipeline_source_synthetic", lang, call=call)
        rows = "?" if n_rows is None else f"{n_rows:,}"
        if self.path is None:
            return text("pipeline_source_frame", lang, rows=rows)
        return text("pipeline_source_file", lang, name=self.path.name, rows=rows)


def _positional(df: pd.DataFrame) -> pd.DataFrame:
    """The table with row positions as its index.

    A Parquet file written from a frame indexed by ``customer_id`` comes back with the ids as
    its index; validation messages cite index labels, so the ids go back into a column (or
    are dropped, for an unnamed index) before anything else looks at the rows.
    """
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return df
    names = [n for n in df.index.names if n is not None]
    if names and not any(n in df.columns for n in names):
        return df.reset_index()
    return df.reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class DataResult:
    """The validated customer table, the synthetic truth (or None) and where they came from.

    Unpacks as ``frame, truth, source``.
    """

    frame: pd.DataFrame
    truth: pd.DataFrame | None
    source: DataSource

    def __iter__(self):
        return iter((self.frame, self.truth, self.source))

    def describe(self, lang: str = DEFAULT_LANG) -> str:
        return self.source.describe(len(self.frame), lang=lang)
