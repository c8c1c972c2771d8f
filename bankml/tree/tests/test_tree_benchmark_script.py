"""benchmarks/bench_tree.py runs end to end on a small table (timings are printed, never asserted)."""

import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "bench_tree.py"


def test_bench_tree_script_runs(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # the script's shared _common module
    spec = importlib.util.spec_from_file_location("bench_tree", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--n", "3000"]) == 0
    out = capsys.readouterr().out
    assert out.count("speed-up x") == 2 and out.count("time ratio") == 2
    assert out.count("x X  (target < 4)") == 2
