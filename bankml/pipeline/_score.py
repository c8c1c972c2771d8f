"""`bankml score`: the monthly scoring job -- a registered model over a table of any size.

Reads the table in batches, writes one row per customer (id, score, decile, the rule that
fired and its text, the star level) to a Parquet file atomically, and logs the run in MLflow
(counts, the score distribution, the model's name and version; never an id).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import load_config
from ..errors import ConfigError, DataError, TrackingError
from ..labels import DEFAULT_LANG, check_lang
from ..schema import ID, LABEL, STAR_INPUTS
from ._data import BATCH_ROWS, DataSource

__all__ = ["score", "ScoreResult", "DECILES", "SCORE_COLUMNS", "BATCH_ROWS"]

#: Deciles: 1 holds the highest scores
DECILES = 10
#: The columns of the scores file, in order
SCORE_COLUMNS = ("customer_id", "score", "decile", "rule_id", "rule", "star")
#: rule_id of a customer no rule covers (the rule set's "otherwise" line); rules count from 1
OTHERWISE_ID = 0
#: The quantiles of the score logged to MLflow
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
#: Scoring runs go to their own experiment beside the training one
EXPERIMENT_SUFFIX = "-scoring"
#: A list of rows in a message stops after this many
_MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run did: where it wrote, how many customers, with which model.

    ``deciles`` and ``stars`` are counts of customers; ``stars`` is None when the table
    lacks the star inputs (the ``star`` column is then empty, and ``missing_star_inputs``
    names what was missing); ``rule_disagreements`` counts customers whose rule predicts
    another class than the model (0 when the rules reproduce the model, as the training
    run's fidelity gate proved on its test set).
    """

    out: Path
    n_customers: int
    model_name: str
    model_version: str
    run_id: str | None
    quantiles: dict
    deciles: dict
    stars: dict | None
    missing_star_inputs: tuple
    rule_disagreements: int
    seconds: float

    def summary(self) -> str:
        stars = ("star levels: " + ", ".join(f"{k}: {v:,}" for k, v in self.stars.items())
                 if self.stars is not None else
                 "star levels: not computed (no " + ", ".join(self.missing_star_inputs) + ")")
        return (f"bankml score: {self.n_customers:,} customers scored with {self.model_name} "
                f"version {self.model_version} -> {self.out} in {self.seconds:.1f} s; "
                f"median score {self.quantiles.get('q50', float('nan')):.3f}; {stars}")


# ------------------------------------------------------------------ the model
def _is_registry_uri(ref: str) -> bool:
    return ref.startswith(("models:/", "runs:/"))


def load_scoring_model(ref, tracking_uri=None):
    """The model ``ref`` names and ``(name, version)`` to log.

    ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION`` are resolved in the MLflow registry
    (the version is pinned before loading, so an alias moving meanwhile cannot mix two
    versions); ``runs:/RUN_ID/model`` loads a run's model; a ``.joblib`` file saved by
    bankml is loaded only if its SHA-256 matches (:func:`bankml.load_model`).
    """
    ref = str(ref)
    if not _is_registry_uri(ref):
        path = Path(ref)
        if path.suffix.lower() != ".joblib":
            raise ConfigError(f"--model {ref!r}: expected models:/NAME@ALIAS, models:/NAME/VERSION, "
                              "runs:/RUN_ID/model or a .joblib file saved by bankml")
        from ..persistence import load_model

        model = load_model(path)
        digest = path.with_name(path.name + ".sha256").read_text().split()[0][:12]
        return model, path.stem, f"sha256:{digest}"
    import mlflow
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    from ..tracking import _quiet

    client = mlflow.MlflowClient(tracking_uri)
    name, version, uri = ref, "", ref
    try:
        with _quiet("mlflow"):
            if ref.startswith("models:/"):
                body = ref[len("models:/"):]
                if "@" in body:
                    name, alias = body.split("@", 1)
                    version = client.get_model_version_by_alias(name, alias).version
                else:
                    name, _, version = body.partition("/")
                    client.get_model_version(name, version)
                uri = f"models:/{name}/{version}"
            else:
                name = "run " + ref[len("runs:/"):].split("/", 1)[0]
            # the models:/ scheme reads the global tracking URI; put it back afterwards
            before = mlflow.get_tracking_uri()
            mlflow.set_tracking_uri(tracking_uri)
            try:
                model = mlflow.sklearn.load_model(uri)
            finally:
                mlflow.set_tracking_uri(before)
    except MlflowException as exc:
        raise TrackingError(f"model URI {ref!r} does not resolve in {_store(tracking_uri)}: "
                            f"{_first_line(exc)}") from None
    except OSError as exc:  # the registry points at artifacts that are gone
        raise TrackingError(f"model URI {ref!r}: its files cannot be read ({_first_line(exc)})") from None
    return model, name, str(version)


def _store(uri) -> str:
    from ..tracking import _shown

    return _shown(uri)


def _first_line(exc) -> str:
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _final_step(model):
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def model_features(model) -> list:
    """The raw columns ``model`` reads (a Pipeline's first step sees the same columns)."""
    for est in (model, _final_step(model)):
        names = getattr(est, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
    raise ConfigError(f"the model ({type(model).__name__}) does not record its input columns "
                      "(no feature_names_in_): fit it on a DataFrame")


def _numeric_features(model, features) -> list:
    """Of ``features``, those the model reads as numbers: not categorical in the tree, or
    cut into bands by the pipeline's binner before it."""
    tree = _final_step(model)
    cats = getattr(tree, "categorical_features_", None)
    names = list(getattr(tree, "feature_names_in_", features))
    banded = set()
    for _, step in getattr(model, "steps", [])[:-1]:
        banded |= set(getattr(step, "bands", None) or {})
    numeric = set(banded)
    if cats is not None:
        numeric |= {n for n, c in zip(names, cats) if not c and n not in banded}
    return [f for f in features if f in numeric]


def _rules(model, cfg, target):
    """The rule set the training run published for ``model``, and each rule's text."""
    from ..rules import rules_from_pipeline, rules_from_tree, simplify

    convert = rules_from_pipeline if getattr(model, "steps", None) else rules_from_tree
    return simplify(convert(model, cfg["rules"]["target"], label_column=target))


def _rule_texts(rules, lang) -> list:
    """Text of rule 1..n then the "otherwise" line, as ``to_text`` prints them."""
    from ..rules import to_text

    lines = to_text(rules, lang=lang).split("\n")
    texts = []
    for rule, line in zip(rules.rules, lines):
        prefix = f"{rule.rule_id}. "
        texts.append(line[len(prefix):] if line.startswith(prefix) else line)
    return texts + [lines[-1]]


def _target_of(cfg, model_name: str) -> str:
    """The label the model predicts: the config's ``target``, or among ``targets`` the one
    the registered name ends with (``<registered_model>-<target>``)."""
    targets = cfg.get("targets") or []
    for t in targets:
        if isinstance(t, str) and model_name.endswith(f"-{t}"):
            return t
    target = cfg.get("target")
    return target if isinstance(target, str) and target else LABEL


# ------------------------------------------------------------------ the data
def _rows(mask: np.ndarray, index: pd.Index) -> str:
    pos = index[np.flatnonzero(mask)]
    shown = ", ".join(str(p) for p in pos[:_MAX_ROWS_SHOWN])
    more = f" and {len(pos) - _MAX_ROWS_SHOWN:,} more" if len(pos) > _MAX_ROWS_SHOWN else ""
    return f"row{'s' if len(pos) > 1 else ''} {shown}{more}"


def _checked(batch: pd.DataFrame, numeric, source: DataSource) -> pd.DataFrame:
    """``batch`` with each numeric feature as float; text or an infinity in one is a
    DataError naming the column and the row positions in the whole table."""
    for col in numeric:
        s = batch[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            as_num = pd.to_numeric(s.astype("object").where(s.notna(), np.nan), errors="coerce")
            bad = (s.notna() & as_num.isna()).to_numpy()
            if bad.any() or pd.api.types.is_bool_dtype(s):
                bad = bad if bad.any() else s.notna().to_numpy()
                raise DataError(f"column {source._shown(col)} must hold numbers; it does not at "
                                f"{_rows(bad, batch.index)} (row positions, 0 = first row)")
            batch[col] = as_num.astype(float)
        values = batch[col].to_numpy(dtype=float, na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            raise DataError(f"column {source._shown(col)} holds an infinite value at "
                            f"{_rows(inf, batch.index)} (row positions, 0 = first row)")
    ids = batch[ID]
    if ids.isna().any():
        raise DataError(f"column {source._shown(ID)} is empty at {_rows(ids.isna().to_numpy(), batch.index)}"
                        " (row positions, 0 = first row): every score needs its customer")
    return batch


# ------------------------------------------------------------------ deciles
def _decile_cuts(counts: pd.Series):
    """Distinct scores ascending and the decile of each.

    Decile ``d`` = 1 + floor(10 * (customers scoring strictly higher) / n): decile 1 holds
    the highest scores, and customers with the same score always share a decile (a tree
    gives whole leaves one score, so equal-sized deciles would split a leaf at random).
    """
    values = np.sort(counts.index.to_numpy(dtype=float))
    n_at = counts.reindex(values).to_numpy(dtype=np.int64)
    n = int(n_at.sum())
    higher = n - np.cumsum(n_at)  # customers with a score strictly above each value
    deciles = np.minimum(1 + (DECILES * higher) // n, DECILES).astype(np.int8)
    return values, deciles


def _quantiles(counts: pd.Series) -> dict:
    values = np.sort(counts.index.to_numpy(dtype=float))
    cum = np.cumsum(counts.reindex(values).to_numpy(dtype=np.int64))
    n = cum[-1]
    out = {}
    for q in QUANTILES:
        # the lower empirical quantile: the smallest score with at least q*n customers at or below
        out[f"q{round(q * 100):02d}"] = float(values[np.searchsorted(cum, max(q * n, 1))])
    out["mean"] = float((values * counts.reindex(values).to_numpy()).sum() / n)
    return out


# ------------------------------------------------------------------ writing
def _check_out(out) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out {out}: the scores are written as Parquet; name a .parquet file")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; name a .parquet file")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise ConfigError(f"--out {out}: folder {out.parent} is not writable")
    return out


def _schema():
    import pyarrow as pa

    return pa.schema([("customer_id", pa.string()), ("score", pa.float64()),
                      ("decile", pa.int8()), ("rule_id", pa.int32()), ("rule", pa.string()),
                      ("star", pa.int8())])


@contextlib.contextmanager
def _temporary(out: Path):
    """Two hidden files beside ``out`` (same file system: the rename is atomic), always
    removed; a failure anywhere leaves ``out`` as it was."""
    tag = uuid.uuid4().hex[:12]
    temps = (out.with_name(f".{out.name}.{tag}.pass1"), out.with_name(f".{out.name}.{tag}.tmp"))
    try:
        yield temps
    finally:
        for t in temps:
            with contextlib.suppress(OSError):
                t.unlink()


def _stars(batch, cfg, source: DataSource) -> np.ndarray:
    import dataclasses

    from ..errors import SchemaError
    from ._stages import score_stars

    try:
        return score_stars(batch, cfg)["contribution_star"].to_numpy(np.int8)
    except SchemaError as exc:
        # the scorer counts rows within the batch: shift them to positions in the whole table
        start = int(batch.index[0])
        shifted = [dataclasses.replace(p, rows=[start + r for r in p.rows]) for p in exc.problems]
        if not shifted:
            raise
        raise DataError(f"{source._name()}: the star inputs cannot be rated: "
                        + "; ".join(str(p) for p in shifted)) from None


def _pass1(source, model, features, numeric, rules, has_stars, cfg, batch_rows, path):
    """Scores, rule ids and stars per batch into ``path``; the score counts for deciles."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    classes = list(getattr(model, "classes_", [0, 1]))
    positive = len(classes) - 1  # scikit-learn's positive label: the larger class
    # per rule position, plus a last entry for the "otherwise" line: apply's -1 (no rule
    # holds) then indexes it directly
    rule_ids = np.asarray([r.rule_id for r in rules.rules] + [OTHERWISE_ID], dtype=np.int32)
    rule_says = np.asarray([r.prediction for r in rules.rules] + [rules.default], dtype=object)
    columns = [ID] + features + ([c for c in STAR_INPUTS if c not in features] if has_stars else [])
    counts = pd.Series(dtype=np.int64)
    n = disagree = 0
    star_counts = {}
    schema = pa.schema([("customer_id", pa.string()), ("score", pa.float64()),
                        ("rule_id", pa.int32()), ("star", pa.int8())])
    with pq.ParquetWriter(path, schema) as writer:
        for batch in source.iter_batches(list(dict.fromkeys(columns)), batch_rows):
            batch = _checked(batch, numeric, source)
            X = batch[features]
            score = np.asarray(model.predict_proba(X), dtype=float)[:, positive]
            fired = rules.apply(X)
            rule_id = rule_ids[fired]
            # the rule's class must be the model's, or its text would misstate why
            said = rule_says[fired]
            disagree += int((said != np.asarray(model.predict(X), dtype=object)).sum())
            if has_stars:
                star = _stars(batch, cfg, source)
                for k, v in zip(*np.unique(star, return_counts=True)):
                    star_counts[int(k)] = star_counts.get(int(k), 0) + int(v)
                star_arr = pa.array(star, pa.int8())
            else:
                star_arr = pa.nulls(len(batch), pa.int8())
            writer.write_table(pa.table({
                "customer_id": pa.array(batch[ID].astype("string").to_numpy(dtype=object),
                                        pa.string()),
                "score": pa.array(score, pa.float64()),
                "rule_id": pa.array(rule_id, pa.int32()), "star": star_arr}, schema=schema))
            vc = pd.Series(score).value_counts()
            counts = vc if counts.empty else counts.add(vc, fill_value=0).astype(np.int64)
            n += len(batch)
    return n, counts, disagree, (dict(sorted(star_counts.items(), reverse=True))
                                 if has_stars else None)


def _pass2(pass1: Path, tmp: Path, counts, texts, rule_ids, batch_rows):
    """The pass-1 file with each customer's decile and rule text, written to ``tmp``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    values, deciles = _decile_cuts(counts)
    # rule id -> text, through one small lookup array (ids count from 1, 0 is "otherwise")
    lookup = np.empty(max(rule_ids + [OTHERWISE_ID]) + 1, dtype=object)
    for rid, txt in zip(rule_ids + [OTHERWISE_ID], texts):
        lookup[rid] = txt
    with pq.ParquetWriter(tmp, _schema()) as writer:
        for batch in pq.ParquetFile(pass1).iter_batches(batch_size=batch_rows):
            score = batch.column("score").to_numpy()
            decile = deciles[np.searchsorted(values, score)]
            rid = batch.column("rule_id").to_numpy()
            writer.write_table(pa.table({
                "customer_id": batch.column("customer_id"), "score": batch.column("score"),
                "decile": pa.array(decile, pa.int8()), "rule_id": batch.column("rule_id"),
                "rule": pa.array(lookup[rid], pa.string()), "star": batch.column("star")},
                schema=_schema()))
    return {int(d): int(counts.reindex(values).to_numpy()[deciles == d].sum())
            for d in range(1, DECILES + 1)}


# ------------------------------------------------------------------ the job
def score(config, model, data=None, out="scores.parquet", *, lang=DEFAULT_LANG,
          tracking_uri=None, batch_rows=None, verbose=False) -> ScoreResult:
    """Score every customer of a table with a registered model, in batches, into Parquet.

    Parameters
    ----------
    config : str, Path or dict
        The pipeline config the model was trained with: its ``data.columns`` mapping and
        ``data.encoding`` read the table, its ``stars.policy`` rates the stars, its
        ``mlflow.experiment`` (+ ``-scoring``) records the run.
    model : str
        ``models:/NAME@champion``, ``models:/NAME/VERSION``, ``runs:/RUN_ID/model`` or a
        ``.joblib`` file saved by bankml (checksum verified).
    data : str or Path, optional
        CSV, Parquet file or folder; default the config's source (which may be ``data.sql``).
    out : str or Path
        The ``.parquet`` file to write: ``customer_id``, ``score`` (probability of the
        positive class), ``decile`` (1 = the 10% highest scores; equal scores share a
        decile), ``rule_id`` (0 = no rule covers the customer: the "otherwise" line),
        ``rule`` (its text in ``lang``) and ``star`` (contribution star 0..7, empty when
        the table lacks the eight star inputs). Written to a temporary file and renamed:
        a failure leaves no file and an existing one unchanged.
    lang : {"zh", "en"}
    tracking_uri : str, optional
        MLflow store of the registry and of this run (default ``MLFLOW_TRACKING_URI`` or
        ``sqlite:///mlflow.db``).
    batch_rows : int, optional
        Rows per batch (default :data:`BATCH_ROWS`); memory follows it, not the size of
        the table.

    Returns
    -------
    ScoreResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from bankml import save_model
    >>> from bankml.datasets import make_customers
    >>> from bankml.pipeline import fit_tree
    >>> from bankml.config import validate_config
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cfg = validate_config({"data": {"path": str(d / "c.parquet")}})
    >>> df = make_customers(2000, seed=0)
    >>> df.to_parquet(d / "c.parquet")
    >>> _ = save_model(fit_tree(df[["gender", "education", "age", "short_term_assets",
    ...                             "long_term_assets"]], df["wm_buyer"], cfg), d / "m.joblib")
    >>> got = score(cfg, str(d / "m.joblib"), out=d / "s.parquet",
    ...             tracking_uri=f"sqlite:///{d}/mlflow.db", batch_rows=500)
    >>> got.n_customers, sorted(got.deciles) == list(range(1, 11))
    (2000, True)
    """
    from .. import tracking

    check_lang(lang)
    batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
    t0 = time.perf_counter()
    cfg = load_config(config)
    out = _check_out(out)
    uri = tracking.prepare_store(tracking_uri)
    loaded, name, version = load_scoring_model(model, uri)
    features = model_features(loaded)
    numeric = _numeric_features(loaded, features)
    rules = _rules(loaded, cfg, _target_of(cfg, name))
    texts = _rule_texts(rules, lang)
    source = DataSource.from_config(cfg, data)
    missing_stars = tuple(c for c in STAR_INPUTS if c not in set(source.available(STAR_INPUTS)))
    # all eight or none: a star level from some of its inputs would be a wrong level
    has_stars = not missing_stars
    experiment = cfg["mlflow"]["experiment"] + EXPERIMENT_SUFFIX
    with tracking.RunTracker(experiment, tracking_uri=uri, run_name=f"score {name}",
                             tags={"bankml.pipeline": "score"}) as rt, _temporary(out) as temps:
        rt.set_tags({"bankml.score.model": name, "bankml.score.model_version": version,
                     "bankml.score.source": source.describe(lang="en"),
                     "bankml.score.stars": "computed" if has_stars else
                     "not computed: missing " + ", ".join(missing_stars)})
        n, counts, disagree, stars = _pass1(source, loaded, features, numeric, rules,
                                            has_stars, cfg, batch_rows, temps[0])
        deciles = _pass2(temps[0], temps[1], counts, texts,
                         [r.rule_id for r in rules.rules], batch_rows)
        os.replace(temps[1], out)
        quantiles = _quantiles(counts)
        metrics = {"score.customers": n, "score.rule_disagreements": disagree,
                   **{f"score.{k}": v for k, v in quantiles.items()},
                   **{f"score.decile_{d}": c for d, c in deciles.items()},
                   "score.seconds": time.perf_counter() - t0}
        if stars is not None:
            metrics.update({f"score.star_{k}": c for k, c in stars.items()})
        rt.log_metrics(metrics)
    result = ScoreResult(out, n, name, version, rt.run_id, quantiles, deciles, stars,
                         missing_stars, disagree, time.perf_counter() - t0)
    if verbose:
        print(result.summary())
    return result
