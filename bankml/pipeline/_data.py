"""Where the customers come from: one `DataSource` (synthetic, CSV, Parquet, SQL or a DataFrame).

Reading turns every way a file can be unusable (empty, not UTF-8, corrupt, a folder) into a
`DataError` naming the file, and never lets an index label (a customer id) into a message.
Only the columns asked for are read (Parquet ``columns=``, CSV ``usecols=``, a SQL SELECT
list); ``data.columns`` renames the bank's own column names right after reading; scoring
reads a source of any size in batches (:meth:`DataSource.iter_batches`).
"""

from __future__ import annotations

import codecs
import functools
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import _url_without_password
from ..errors import ConfigError, DataError
from ..labels import DEFAULT_LANG
from ..schema import ID
from ._text import text

__all__ = ["DataSource", "DataResult", "detect_encoding"]

_CSV = (".csv",)
_PARQUET = (".parquet", ".pq")
# a reader's own message can be long (pyarrow quotes footers); a person needs its first line
_MAX_REASON = 160


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON - 3] + "..."


#: Encodings tried, in order, by ``data.encoding: auto`` (bank exports are UTF-8 or GBK;
#: GB18030 is GBK's superset, so it decodes every GBK file)
AUTO_ENCODINGS = ("utf-8", "gb18030")
#: Bytes decoded at a time when checking a file's encoding (memory stays flat on any size)
_DECODE_BLOCK = 1 << 20
#: Rows per batch when scoring, unless the caller says otherwise
BATCH_ROWS = 100_000
#: Parquet batches pyarrow may decode ahead of the one being scored
PARQUET_READAHEAD = 1


def _decode_error(path: Path, encoding: str):
    """``(offset, line)`` of the first byte of ``path`` that ``encoding`` cannot decode, or
    None when the whole file decodes. Read in blocks: the file may be larger than memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_DECODE_BLOCK)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # the decoder's offset counts from the bytes it still held back
                pending = len(exc.object) - len(block)
                bad = max(offset - pending + exc.start, 0)
                with open(path, "rb") as again:
                    head = again.read(bad)
                return bad, head.count(b"\n") + 1
            if not block:
                return None
            offset += len(block)
            line += block.count(b"\n")


def detect_encoding(path) -> str:
    """The encoding of a CSV file: UTF-8 (with or without a BOM), else GBK/GB18030.

    Each candidate must decode the whole file (read in blocks); a file neither decodes is
    refused, naming the first bad byte for each.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gbk.csv"
    >>> _ = p.write_bytes("客户编号,年龄\\nC1,30\\n".encode("gbk"))
    >>> detect_encoding(p)
    'gb18030'
    """
    path = Path(path)
    with open(path, "rb") as fh:
        if fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            enc = "utf-8-sig"
            bad = _decode_error(path, enc)
            if bad is None:
                return enc
            raise DataError(f"data file {path.name} starts with a UTF-8 byte-order mark but is not "
                            f"UTF-8 text: undecodable byte at offset {bad[0]:,} (line {bad[1]:,})")
    tried = []
    for enc in AUTO_ENCODINGS:
        bad = _decode_error(path, enc)
        if bad is None:
            return enc
        tried.append(f"{'GBK/GB18030' if enc == 'gb18030' else 'UTF-8'} (first undecodable "
                     f"byte at offset {bad[0]:,}, line {bad[1]:,})")
    raise DataError(f"data file {path.name} is neither " + " nor ".join(tried)
                    + "; name its encoding in data.encoding")


def _rename_map(mapping) -> dict:
    return dict(mapping or ())


@dataclass(frozen=True)
class DataSource:
    """One source of customers: ``kind`` is "synthetic", "csv", "parquet", "sql" or "frame".

    Build it with :meth:`from_config`; :meth:`read` returns a :class:`DataResult`,
    :meth:`iter_batches` yields the table in batches for scoring; :meth:`describe` says
    what was read without naming any customer. ``mapping`` holds ``data.columns`` as
    ``(their name, bankml name)`` pairs, applied right after reading: every other method
    speaks bankml's names.

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
    mapping: tuple = ()
    sql_url: str | None = field(default=None, repr=False)
    sql_table: str | None = None
    sql_query: str | None = field(default=None, repr=False)

    @classmethod
    def synthetic(cls, n: int, seed: int = 0) -> "DataSource":
        return cls("synthetic", n=int(n), seed=int(seed))

    @classmethod
    def from_config(cls, cfg: dict, data=None) -> "DataSource":
        """The source ``data`` names (a DataFrame or a path), else the config's ``data``.

        ``data.columns`` (the rename) and ``data.encoding`` apply to a path given as
        ``data`` too: a monthly scoring file comes in the bank's own names, as the
        training table did.
        """
        dc = cfg["data"]
        encoding = dc.get("encoding") or "utf-8"
        mapping = tuple((dc.get("columns") or {}).items())
        if isinstance(data, pd.DataFrame):
            return cls("frame", frame=data, mapping=mapping)
        where = data if data is not None else dc["path"]
        sql = dc.get("sql")
        if where is None and sql:
            return cls("sql", mapping=mapping, sql_url=sql["url"], sql_table=sql.get("table"),
                       sql_query=sql.get("query"))
        if where is None:
            syn = dc["synthetic"]
            return cls.synthetic(syn["n"], syn["seed"])
        path = Path(where)
        suffix = path.suffix.lower()
        kind = "csv" if suffix in _CSV else "parquet" if suffix in _PARQUET else None
        if not path.exists():
            raise DataError(f"data file {path} does not exist")
        if path.is_dir():
            if any(p.suffix.lower() in _PARQUET for p in path.rglob("*") if p.is_file()):
                return cls("parquet", path=path, mapping=mapping)
            raise DataError(f"data path {path} is a folder; expected a .csv or .parquet file, "
                            "or a folder holding .parquet files")
        if kind is None:
            raise DataError(f"data file {path.name}: expected a .csv or .parquet file, "
                            f"got {suffix or 'no suffix'!r}")
        return cls(kind, path=path, encoding=encoding, mapping=mapping)

    # ------------------------------------------------------------------ names
    def _their(self, name: str) -> str:
        """The source's own name of bankml column ``name``."""
        back = {ours: theirs for theirs, ours in self.mapping}
        return back.get(name, name)

    def _shown(self, name: str) -> str:
        """``name`` as a message shows it: the bankml name and, if renamed, the source's."""
        theirs = self._their(name)
        return repr(name) if theirs == name else f"{theirs!r} (data.columns maps it to {name!r})"

    def _rename(self, df: pd.DataFrame) -> pd.DataFrame:
        ren = {t: o for t, o in self.mapping if t in df.columns and t != o}
        if not ren:
            return df
        seen = {}
        for theirs, ours in ren.items():
            if ours in seen:  # two columns under one name: which one a model read is a guess
                raise DataError(f"{self._name()}: data.columns maps both {seen[ours]!r} and "
                                f"{theirs!r} to {ours!r}")
            seen[ours] = theirs
        clash = [o for t, o in ren.items() if o in df.columns and o not in ren]
        if clash:
            theirs = next(t for t, o in ren.items() if o == clash[0])
            raise DataError(f"{self._name()}: data.columns maps {theirs!r} to {clash[0]!r}, "
                            f"but the source already has a column {clash[0]!r}")
        return df.rename(columns=ren)

    @functools.cached_property
    def _source_columns(self) -> list:
        """The source's own column names, read from its header / schema, in order."""
        if self.kind == "csv":
            return list(self._csv_frame(nrows=0).columns)
        if self.kind == "parquet":
            return [c for c in self._dataset().schema.names if not c.startswith("__index_level_")]
        if self.kind == "sql":
            return self._sql_columns()
        if self.kind == "frame":
            return list(self.frame.columns)
        return list(self.read().frame.columns)

    def available(self, columns) -> list:
        """Those of ``columns`` (bankml names, after the rename) that the source holds."""
        have = set(self._source_columns)
        return [c for c in columns if self._their(c) in have]

    def _their_columns(self, columns) -> list | None:
        if columns is None:
            return None
        have = set(self._source_columns)
        return [self._their(c) for c in dict.fromkeys(columns) if self._their(c) in have]

    def _require(self, columns) -> None:
        missing = [c for c in columns if c not in set(self.available(columns))]
        if missing:
            raise DataError(f"{self._name()} has no column " + ", ".join(map(self._shown, missing)))

    # ------------------------------------------------------------------ reading
    def read(self, columns=None) -> "DataResult":
        """The table (index reset to row positions) and, for synthetic data, the truth.

        ``columns`` (bankml names) keeps only those columns, and a file or database reads
        only them; a missing one is left for validation to name.
        """
        truth = None
        if self.kind == "synthetic":
            from ..datasets import make_customers

            df, truth = make_customers(self.n, seed=self.seed, return_truth=True)
        elif self.kind == "frame":
            df = self.frame
        else:
            their = self._their_columns(columns)
            if self.kind == "csv":
                df = self._read_csv(their)
            elif self.kind == "parquet":
                df = self._read_parquet(their)
            else:
                df = self._read_sql(their)
        df = self._rename(_positional(df))
        if columns is not None:
            df = df[[c for c in df.columns if c in set(columns)]]
        if len(df) == 0:
            raise DataError(f"{self._name()} has no customer rows (a header only, or empty)")
        return DataResult(df, truth, self)

    def iter_batches(self, columns, batch_rows: int = BATCH_ROWS):
        """The table in batches of at most ``batch_rows`` rows, only ``columns``, for scoring.

        Each batch is a DataFrame in bankml's names (``data.columns`` applied) whose index
        is the row positions in the whole source (0 = first row), so an error can name them.
        A column the source lacks is a :class:`DataError` naming it, raised before any row
        is read. Parquet is read through pyarrow batches, CSV in chunks, SQL with a
        streamed cursor, so memory follows ``batch_rows``, not the size of the source.

        Examples
        --------
        >>> src = DataSource.synthetic(250, seed=1)
        >>> [len(b) for b in src.iter_batches(["customer_id", "age"], batch_rows=100)]
        [100, 100, 50]
        """
        if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
            from ..errors import InvalidParameterError

            raise InvalidParameterError(f"The 'batch_rows' parameter of iter_batches must be an "
                                        f"int >= 1. Got {batch_rows!r} instead.")
        columns = list(dict.fromkeys(columns))
        self._require(columns)
        their = self._their_columns(columns)
        if self.kind == "csv":
            chunks = self._csv_frame(usecols=their, chunksize=batch_rows)
        elif self.kind == "parquet":
            chunks = self._parquet_batches(their, batch_rows)
        elif self.kind == "sql":
            chunks = self._sql_batches(their, batch_rows)
        else:
            whole = self.read(columns).frame
            chunks = (whole.iloc[i:i + batch_rows] for i in range(0, len(whole), batch_rows))
        start = 0
        for chunk in _reading(chunks, self):
            if len(chunk) == 0:
                continue
            chunk = self._rename(_positional(chunk))[columns]
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk
        if start == 0:
            raise DataError(f"{self._name()} has no customer rows (a header only, or empty)")

    def _name(self) -> str:
        if self.kind == "sql":
            return f"SQL {'table ' + repr(self.sql_table) if self.sql_table else 'query'}"
        return f"data file {self.path.name}" if self.path is not None else "the data"

    # -- CSV
    @functools.cached_property
    def _encoding(self) -> str:
        if self.encoding.lower() == "auto":
            return detect_encoding(self.path)
        return self.encoding

    def _csv_frame(self, **kwargs):
        if self.path.stat().st_size == 0:
            raise DataError(f"{self._name()} is empty (0 bytes); expected a header row and one "
                            "row per customer")
        encoding = self._encoding  # detection's own DataError is not a CSV parse error
        try:
            return pd.read_csv(self.path, dtype={self._their(ID): "string"},
                               encoding=encoding, **kwargs)
        except UnicodeDecodeError:
            raise self._not_decodable() from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{self._name()} holds no header row and no customers") from None
        except (pd.errors.ParserError, ValueError, OSError) as exc:
            raise DataError(f"{self._name()} cannot be read as CSV: {_reason(exc)}") from None

    def _not_decodable(self) -> DataError:
        # pandas' own offset counts from its current buffer; find the byte in the file
        bad = _decode_error(self.path, self._encoding) or (0, 1)
        return DataError(
            f"{self._name()} is not {self._encoding} text (undecodable byte at offset "
            f"{bad[0]:,}, line {bad[1]:,}); re-save it as UTF-8, or set data.encoding (e.g. "
            "gb18030 for a GBK/GB2312 file, or auto)")

    def _read_csv(self, their=None) -> pd.DataFrame:
        return self._csv_frame(usecols=their)

    # -- Parquet
    def _dataset(self):
        import pyarrow.dataset as pads

        try:
            return pads.dataset(str(self.path), format="parquet",
                                partitioning="hive" if self.path.is_dir() else None)
        except Exception as exc:  # pyarrow's errors share no base class with pandas'
            raise self._bad_parquet(exc) from None

    def _bad_parquet(self, exc) -> DataError:
        return DataError(f"{self._name()} cannot be read as Parquet (corrupt, truncated or "
                         f"not Parquet): {_reason(exc)}")

    def _read_parquet(self, their=None) -> pd.DataFrame:
        try:
            if their is None and not self.path.is_dir():
                return pd.read_parquet(self.path)
            return self._dataset().to_table(columns=their).to_pandas()
        except ImportError:
            raise
        except DataError:
            raise
        except Exception as exc:
            raise self._bad_parquet(exc) from None

    def _parquet_batches(self, their, batch_rows):
        # pyarrow reads 16 batches and 4 files ahead by default: with 100k-row batches that is
        # over a million rows in memory, which is what batches are meant to avoid
        batches = self._dataset().to_batches(columns=their, batch_size=batch_rows,
                                             batch_readahead=PARQUET_READAHEAD,
                                             fragment_readahead=1)
        for batch in batches:
            yield batch.to_pandas()

    # -- SQL
    def _engine(self):
        try:
            import sqlalchemy as sa
        except ImportError:  # pragma: no cover -- MLflow depends on SQLAlchemy
            raise ConfigError("config key 'data.sql' needs SQLAlchemy: pip install "
                              "\"bankml[sql]\"") from None
        try:
            return sa.create_engine(self.sql_url)
        except Exception as exc:  # a bad URL, or a driver that is not installed
            raise ConfigError(f"config key 'data.sql.url': cannot open {_url_without_password(self.sql_url)}"
                              f": {_reason(exc)}") from None

    def _from(self):
        import sqlalchemy as sa

        if self.sql_table:
            schema, _, name = self.sql_table.rpartition(".")
            return sa.table(name, schema=schema or None)
        return sa.text(f"({self.sql_query.strip().rstrip(';')}) AS bankml_query")

    def _select(self, their):
        import sqlalchemy as sa

        cols = [sa.column(c) for c in their] if their is not None else [sa.text("*")]
        return sa.select(*cols).select_from(self._from())

    def _sql_columns(self) -> list:
        with self._sql_errors():
            with self._engine().connect() as conn:
                result = conn.execute(self._select(None).limit(0))
                cols = list(result.keys())
                result.close()
        return cols

    def _sql_errors(self):
        import contextlib

        source = self

        @contextlib.contextmanager
        def guard():
            try:
                yield
            except (ConfigError, DataError):
                raise
            except Exception as exc:  # SQLAlchemy's and every driver's own errors
                what = source._name()
                raise DataError(f"{what} in {_url_without_password(source.sql_url)} cannot be read: "
                                f"{_reason(getattr(exc, 'orig', None) or exc)}") from None
        return guard()

    def _read_sql(self, their=None) -> pd.DataFrame:
        with self._sql_errors():
            with self._engine().connect() as conn:
                return _ids_as_text(pd.read_sql(self._select(their), conn), self._their(ID))

    def _sql_batches(self, their, batch_rows):
        with self._sql_errors():
            with self._engine().connect() as conn:
                conn = conn.execution_options(stream_results=True)
                for chunk in pd.read_sql(self._select(their), conn, chunksize=batch_rows):
                    yield _ids_as_text(chunk, self._their(ID))

    # ------------------------------------------------------------------ describing
    def describe(self, n_rows: int | None = None, lang: str = DEFAULT_LANG) -> str:
        """What was read, in ``lang``; names a file or a table, never a customer."""
        if self.kind == "synthetic":
            call = f"make_customers(n={self.n:,}, seed={self.seed})"
            return text("pipeline_source_synthetic", lang, call=call)
        rows = "?" if n_rows is None else f"{n_rows:,}"
        if self.kind == "sql":
            return text("pipeline_source_sql", lang, name=self.sql_table or "query", rows=rows)
        if self.path is None:
            return text("pipeline_source_frame", lang, rows=rows)
        return text("pipeline_source_file", lang, name=self.path.name, rows=rows)


def _reading(chunks, source):
    """``chunks``, with a reader's failure half-way (a corrupt row group, a dropped
    connection) reported as a DataError naming the source."""
    it = iter(chunks)
    while True:
        try:
            chunk = next(it)
        except StopIteration:
            return
        except (DataError, ConfigError):
            raise
        except UnicodeDecodeError:
            raise source._not_decodable() from None
        except Exception as exc:  # pyarrow, pandas and database drivers share no base class
            raise DataError(f"{source._name()} cannot be read: {_reason(exc)}") from None
        yield chunk


def _ids_as_text(df: pd.DataFrame, id_column: str) -> pd.DataFrame:
    # a database hands ids back as numbers; bankml keeps them as text, as from a CSV
    if id_column in df.columns:
        df[id_column] = df[id_column].astype("string")
    return df


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
