"""benchmarks/bench_real_data.py: runs end to end on bankml's own data, and its verdicts hold
the issue's targets (collapse, CV-selected vs scikit-learn, scorecard vs boosting)."""

import importlib.util
import pathlib
import sys

import pandas as pd
import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_real_data.py"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_real_data", BENCH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_real_data", module)  # its dataclasses need it
    spec.loader.exec_module(module)
    return module


def test_runs_on_make_customers_and_writes_the_table(bench, tmp_path, capsys):
    out = tmp_path / "real.md"
    bench.main(["--quick", "--sets", "customers_5pct", "--out", str(out),
                "--models", "bankml gain,sklearn entropy,HistGradient"])
    text = out.read_text(encoding="utf-8")
    assert "5.0% positives" in text
    rows = [line for line in text.splitlines() if line.startswith("| customers_5pct")]
    assert len(rows) == 3
    gain = next(r for r in rows if "bankml gain" in r).split(" | ")
    auc, rules = float(gain[2]), float(gain[4])
    assert 0.5 < auc < 1 and 2 <= rules <= 64  # depth 6: at most 64 leaves


def _table(rows):
    return pd.DataFrame(rows, columns=["data", "model", "auc", "rules"])


def test_verdicts_flag_a_collapsed_tree_and_a_weak_selection(bench):
    t = _table([
        ("x", "bankml C4.5 rare-target recipe (+ balanced)", 0.5, 1),
        ("x", bench.PUBLISHED_C45, 0.5, 1),
        ("x", "bankml CV-selected (<= 30 rules)", 0.70, 12),
        ("x", "sklearn entropy tree (depth 6, leaf 50)", 0.72, 20),
        ("x", "HistGradientBoosting (defaults)", 0.75, float("nan")),
        ("x", "bankml rule scorecard (<= 30 rules)", 0.745, 30),
    ])
    lines = bench.verdicts(t)
    assert any(s.startswith("FAIL x: bankml C4.5 rare-target") and "one leaf" in s for s in lines)
    # C4.5's pruning as published may collapse (documented; fit warns): noted, not failed
    assert any(s.startswith("note x: bankml C4.5 as published") for s in lines)
    assert any(s.startswith("FAIL x: CV-selected AUC 0.700") for s in lines)
    assert any(s.startswith("ok   rule scorecard") for s in lines)


def test_verdicts_pass_when_targets_hold(bench):
    t = _table([
        ("x", "bankml CV-selected (<= 30 rules)", 0.73, 25),
        ("x", "sklearn entropy tree (depth 6, leaf 50)", 0.72, 20),
        ("x", "HistGradientBoosting (defaults)", 0.75, float("nan")),
        ("x", "bankml rule scorecard (<= 30 rules)", 0.73, 31),
    ])
    lines = bench.verdicts(t)
    assert not any(s.startswith("FAIL x") for s in lines)
    # 31 rules is over the budget, and 0.02 behind boosting: the scorecard fails
    assert any(s.startswith("FAIL rule scorecard") for s in lines)
