"""The next-best-product table of a run with several targets.

For each customer (of the latest snapshot month, when the table has months): among the
products the customer does not hold yet, the one with the highest propensity, that
propensity, and the rule of that product's model that fired. The table names customers, so
it goes to the published outputs only; MLflow and the summary get counts per product.

Propensities of different products are compared after calibration: each model's score is
mapped to the buyer rate of training customers with that score (isotonic regression,
unweighted). A raw tree score is not comparable across products: a ``class_weight="balanced"``
tree of a rare product scores as high as one of a common product.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..labels import LANGS, default_labels
from ..schema import ID
from . import _stages as S
from ._text import text

__all__ = ["NextBest", "ProductModel", "next_best_product", "write_next_best", "log_summary",
           "NEXT_BEST_FILES"]

#: The files written into ``output.reports_dir`` (one per language).
NEXT_BEST_FILES = {lang: f"next_best_product_{lang}.csv" for lang in LANGS}
# a propensity is a share: 4 decimals are finer than any leaf's evidence
_DECIMALS = 4


@dataclass(frozen=True)
class ProductModel:
    """What the table needs of one product's run."""

    cfg: dict
    model: object
    ruleset: object
    labels: object = None


@dataclass(frozen=True, eq=False)
class NextBest:
    """The per-customer table (ids: published files only) and its summary per product."""

    table: pd.DataFrame
    summary: pd.DataFrame
    month: str | None = None

    def metrics(self) -> dict:
        """Counts and mean propensities per product: no customer in them."""
        out = {"next_best.customers": int(len(self.table))}
        for product, row in self.summary.iterrows():
            key = product if product else "none"
            out[f"next_best.{key}.customers"] = int(row["customers"])
            if row["customers"]:
                out[f"next_best.{key}.mean_score"] = float(row["mean_score"])
        return out


def _calibrated_scores(df: pd.DataFrame, rows: np.ndarray, pm: ProductModel) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression

    split = S.split_customers(df, pm.cfg)  # the run's own split: deterministic
    raw_train = pm.model.predict_proba(split.X_train)[:, 1]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(raw_train, np.asarray(split.y_train, float))
    X = df.iloc[rows][S.features(pm.cfg)]
    return iso.predict(pm.model.predict_proba(X)[:, 1])


def _is_scorecard(pm: ProductModel) -> bool:
    from ..rules import Scorecard

    return isinstance(pm.ruleset, Scorecard)


def _fired(pm: ProductModel, X) -> np.ndarray:
    """The position of the rule each row falls in; for a scorecard, of the holding rule
    adding the most points (the main reason for the score), -1 for none."""
    if _is_scorecard(pm):
        from ._scorecard import fired_rule_positions

        return fired_rule_positions(pm.ruleset, X)
    return pm.ruleset.apply(X)


def next_best_product(df: pd.DataFrame, products: dict) -> NextBest:
    """The next best product of every customer among ``products`` ({target: ProductModel}).

    A customer holding every product gets none (an empty product). Rows are those of the
    latest month when the runs split by snapshot month (their features are the current
    ones), else every row.
    """
    first = next(iter(products.values())).cfg
    column = S.split_column(first, df)
    rows = np.arange(len(df))
    month = None
    if column is not None:
        months = S._months(df, column)
        month = max(months)
        rows = np.flatnonzero(months == month)
    names = list(products)
    scores = np.empty((len(rows), len(names)))
    fired = np.empty((len(rows), len(names)), dtype=np.int64)
    for j, (name, pm) in enumerate(products.items()):
        scores[:, j] = _calibrated_scores(df, rows, pm)
        fired[:, j] = _fired(pm, df.iloc[rows][S.features(pm.cfg)])
    held = np.column_stack([df[name].to_numpy(float)[rows] == 1 for name in names])
    open_scores = np.where(held, -np.inf, scores)
    best = open_scores.argmax(axis=1)
    none = held.all(axis=1)
    pick = np.arange(len(rows))
    table = pd.DataFrame({ID: df[ID].to_numpy()[rows]})
    if column is not None:
        table[column] = df[column].to_numpy()[rows]
    table["product"] = pd.Series(np.where(none, "", np.asarray(names, dtype=object)[best]),
                                 dtype="string")
    table["score"] = np.where(none, np.nan, scores[pick, best]).round(_DECIMALS)
    table["rule_position"] = np.where(none, -1, fired[pick, best])
    summary = _summary(table, names)
    return NextBest(table, summary, month)


def _summary(table: pd.DataFrame, names: list) -> pd.DataFrame:
    groups = table.groupby("product", sort=False)["score"]
    counts, means = groups.size(), groups.mean()
    index = pd.Index(names + [""], name="product")
    out = pd.DataFrame({"customers": counts.reindex(index, fill_value=0).astype(int),
                        "mean_score": means.reindex(index)})
    out["share"] = out["customers"] / max(len(table), 1)
    return out


def readable(nb: NextBest, products: dict, lang: str) -> pd.DataFrame:
    """The table for a branch in ``lang``: product name, propensity, rule id and text."""
    lab = {n: pm.labels or default_labels() for n, pm in products.items()}
    out = nb.table.drop(columns=["rule_position", "product"]).copy()
    product = nb.table["product"].to_numpy(dtype=object)
    out.insert(out.columns.get_loc("score"), text("nbp_product", lang),
               [lab[p].column(p, lang) if p else text("nbp_none", lang) for p in product])
    rule_ids, rule_texts = [], []
    frames = {n: _rule_frame(pm, lang) for n, pm in products.items()}
    for p, pos in zip(product, nb.table["rule_position"]):
        if not p:
            rule_ids.append(pd.NA)
            rule_texts.append("")
        elif pos < 0:  # no rule of the product's positive leaves: its default
            rule_ids.append(pd.NA)
            rule_texts.append(text("nbp_scorecard_base" if _is_scorecard(products[p])
                                   else "nbp_other", lang))
        else:
            rule_ids.append(int(frames[p]["rule_id"].iloc[pos]))
            rule_texts.append(str(frames[p]["conditions"].iloc[pos]))
    out[text("nbp_rule_id", lang)] = pd.array(rule_ids, dtype="Int64")
    out[text("nbp_rule", lang)] = rule_texts
    return out.rename(columns={"score": text("nbp_score", lang)})


def _rule_frame(pm: ProductModel, lang: str) -> pd.DataFrame:
    from ..rules import to_frame

    return to_frame(pm.ruleset, lang=lang, labels=pm.labels)


def write_next_best(nb: NextBest, products: dict, reports_dir) -> dict:
    """Write the table per language into ``reports_dir``, each file whole or not at all."""
    folder = Path(reports_dir)
    paths = {}
    for lang, name in NEXT_BEST_FILES.items():
        path = folder / name
        tmp = folder / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            readable(nb, products, lang).to_csv(tmp, index=False, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        paths[lang] = path
    return paths


def summary_frame(nb: NextBest, lang: str, products: dict | None = None) -> pd.DataFrame:
    """Customers, share and mean propensity per product, in ``lang`` (no customer in it)."""
    products = products or {}
    rows = []
    for product, r in nb.summary.iterrows():
        lab = getattr(products.get(product), "labels", None) or default_labels()
        rows.append({text("nbp_product", lang): lab.column(product, lang) if product
                     else text("nbp_none", lang),
                     text("nbp_customers", lang): int(r["customers"]),
                     text("nbp_share", lang): round(float(r["share"]), _DECIMALS),
                     text("nbp_mean_score", lang): round(float(r["mean_score"]), _DECIMALS)})
    return pd.DataFrame(rows)


def log_summary(run_ids, nb: NextBest, products: dict, tracking_uri: str) -> None:
    """The table's counts per product (never a customer) into every product's MLflow run:
    metrics ``next_best.*`` and ``reports/next_best_summary_<lang>.csv``."""
    import time

    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client, now = MlflowClient(tracking_uri), int(time.time() * 1000)
    batch = [Metric(k, float(v), now, 0) for k, v in nb.metrics().items()]
    tables = {lang: summary_frame(nb, lang, products).to_csv(index=False) for lang in LANGS}
    for run_id in run_ids:
        client.log_batch(run_id, metrics=batch)
        for lang, csv in tables.items():
            client.log_text(run_id, csv, f"reports/next_best_summary_{lang}.csv")


def summary_lines(nb: NextBest, path, lang: str, products: dict | None = None) -> list:
    """The summary per product, for the printed summary (no customer in it)."""
    frame = summary_frame(nb, lang, products)
    customers, share, mean = (text(k, lang) for k in ("nbp_customers", "nbp_share",
                                                       "nbp_mean_score"))
    frame[customers] = frame[customers].map("{:,}".format)
    frame[share] = frame[share].map("{:.1%}".format)
    frame[mean] = frame[mean].map(lambda v: "-" if v != v else f"{v:.1%}")
    with pd.option_context("display.unicode.east_asian_width", lang == "zh"):
        table = frame.to_string(index=False)
    return [text("pipeline_next_best", lang, customers=f"{len(nb.table):,}", path=path), table]
