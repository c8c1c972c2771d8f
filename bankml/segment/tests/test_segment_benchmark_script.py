"""benchmarks/bench_segments.py runs both issue-7 measurements end to end on a small table.

Timings are printed, never asserted; what is asserted is that each scikit-learn peer takes the
same steps (same k and segments, same isolation-forest flags), so the ratios compare like with like.
"""

import importlib.util
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[3] / "benchmarks" / "bench_segments.py"


def test_bench_segments_covers_segmenting_and_isolation_forest(capsys):
    spec = importlib.util.spec_from_file_location("bench_segments", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--quick", "--n", "3000"])
    out = capsys.readouterr().out
    assert "== bench_segmenting" in out and "== bench_isolation_forest" in out
    assert "(agreement ARI 1.000)" in out
    assert "flags agree with the scikit-learn peer on 100.00% of customers" in out
    assert out.count("-> overhead") == 3          # k-means CPU; isolation forest wall and CPU
