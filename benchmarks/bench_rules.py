"""Benchmark of bankml.rules: applying extracted rules against the tree's own predict.

A scikit-learn tree and an InfoGainTreeClassifier are trained on ``make_customers``; their
rules are applied with ``RuleSet.predict`` (vectorised masks), the SQL in SQLite and DuckDB
and the generated Python, each checked row for row against ``model.predict`` and timed
against it in the same run. ``--quick`` for development.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from bankml.datasets import make_customers
from bankml.rules import rules_from_tree, simplify, to_python, to_sql

from _common import best_of  # benchmarks/ is on sys.path when run as a script


def _bench(name, model, df, features, python_rows):
    rs = simplify(rules_from_tree(model, label_column="wm_buyer"))
    X = df[features]
    t_model, expected = best_of(lambda: model.predict(X))
    t_rules, got = best_of(lambda: rs.predict(X))
    assert (np.asarray(got) == np.asarray(expected)).all(), f"{name}: RuleSet.predict differs"
    print(f"{name}: {len(rs)} rules, {len(df):,} rows")
    print(f"  model.predict          {t_model * 1e3:8.1f} ms")
    print(f"  RuleSet.predict        {t_rules * 1e3:8.1f} ms   ratio {t_rules / t_model:6.2f}x")

    con = sqlite3.connect(":memory:")
    df[["id"] + features].to_sql("customers", con, index=False)
    sql = to_sql(rs, "customers", "id", dialect="sqlite")
    t_sql, rows = best_of(lambda: con.execute(sql).fetchall(), repeat=1)
    pred = np.array([r[1] for r in rows])
    assert (pred == np.asarray(expected)).all(), f"{name}: SQLite differs"
    print(f"  SQLite query           {t_sql * 1e3:8.1f} ms   ratio {t_sql / t_model:6.2f}x")
    try:
        import duckdb
        dcon = duckdb.connect()
        dcon.register("customers", df[["id"] + features])
        dsql = to_sql(rs, "customers", "id", dialect="duckdb")
        t_duck, res = best_of(lambda: dcon.execute(dsql + ' ORDER BY "id"').fetchnumpy(), repeat=1)
        assert (res["prediction"] == np.asarray(expected)).all(), f"{name}: DuckDB differs"
        print(f"  DuckDB query           {t_duck * 1e3:8.1f} ms   ratio {t_duck / t_model:6.2f}x")
    except ImportError:
        print("  DuckDB not installed: skipped")

    ns = {}
    exec(to_python(rs), ns)
    records = X.iloc[:python_rows].to_dict("records")
    t_py, py = best_of(lambda: [ns["predict"](r) for r in records], repeat=1)
    assert (np.asarray(py) == np.asarray(expected[:python_rows])).all(), f"{name}: python differs"
    print(f"  to_python, per row     {t_py / python_rows * 1e6:8.2f} us")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes for development")
    args = ap.parse_args(argv)
    n = 50_000 if args.quick else 1_000_000
    train = make_customers(20_000 if args.quick else 200_000, seed=1)
    df = make_customers(n, seed=2).rename(columns={"customer_id": "id"})
    df["id"] = np.arange(n)
    features = [c for c in train.columns if c not in ("customer_id", "wm_buyer")]
    numeric = [c for c in features if train[c].dtype.kind in "iuf"]

    sk = DecisionTreeClassifier(max_depth=8, min_samples_leaf=20, random_state=0).fit(
        train[numeric], train["wm_buyer"])
    _bench("sklearn DecisionTreeClassifier", sk, df, numeric, python_rows=min(n, 100_000))
    try:
        from bankml.tree import InfoGainTreeClassifier
    except ImportError:
        print("InfoGainTreeClassifier not available: skipped")
        return 0
    ig = InfoGainTreeClassifier(max_depth=8, min_samples_leaf=20).fit(
        train[features], train["wm_buyer"])
    _bench("bankml InfoGainTreeClassifier", ig, df, features, python_rows=min(n, 100_000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
