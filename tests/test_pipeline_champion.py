"""Issue 12.3, pipeline side: the champion comparison decides what is published.

Only a run that becomes ``@champion`` (decision "promote" or "no_champion") replaces the files
in ``models/`` and ``outputs/``; a run that is not better, or that cannot be judged (too few
positives), is registered as ``@candidate`` and publishes nothing.
"""

import pytest
from mlflow import MlflowClient

from bankml import pipeline, tracking
from bankml.datasets import make_customers

def _cfg(**patch):
    cfg = {"data": {"synthetic": {"n": 1500, "seed": 4}},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False},
           "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "t", "registered_model": "t-model"}}
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


def snapshot(*folders):
    return {str(p): p.read_bytes() for f in folders if f.exists()
            for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture
def champion(tmp_path, monkeypatch):
    """A store whose @champion is a model fitted on 1,500 customers, its files published."""
    monkeypatch.chdir(tmp_path)
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    first = pipeline.run(_cfg(), tracking_uri=store, verbose=False)
    assert first.comparison.decision == "no_champion"
    return store, tmp_path, snapshot(tmp_path / "outputs", tmp_path / "models")


def _assert_champion_kept(store, work, before, result):
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("t-model", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("t-model", "candidate").version) == "2"
    assert result.model_path is None and result.reports_dir is None
    assert snapshot(work / "outputs", work / "models") == before
    run_ = client.get_run(result.run_id)
    assert run_.data.tags["bankml.champion.decision"] == result.comparison.decision
    assert "not @champion" in result.summary("en")


def test_300_row_extract_does_not_replace_a_1500_row_champion(champion):
    store, work, before = champion
    extract = make_customers(1500, seed=4).sample(300, random_state=0)
    res = pipeline.run(_cfg(), data=extract, tracking_uri=store, verbose=False)
    assert res.comparison.decision in ("refused", "keep")
    assert res.comparison.n_test == 90
    _assert_champion_kept(store, work, before, res)


def test_two_buyers_in_2000_rows_is_refused(champion):
    store, work, before = champion
    df = make_customers(2000, seed=9)
    df["wm_buyer"] = 0
    df.loc[[10, 20], "wm_buyer"] = 1
    res = pipeline.run(_cfg(), data=df, tracking_uri=store, verbose=False)
    assert res.comparison.decision == "refused" and res.comparison.n_positives <= 2
    _assert_champion_kept(store, work, before, res)


def _refused():
    return tracking.ChampionComparison(
        decision="refused", reason="12 positives in the test set, fewer than "
        "champion_min_positives=30", candidate_auc=0.9, champion_auc=None, n_test=450,
        n_positives=12, champion_version=None, n_negatives=438)


def test_pipeline_passes_the_test_rows_and_min_positives_and_obeys_the_decision(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    seen = {}

    def compare(name, model, X_test, y_test, *, features, min_positives, tracking_uri=None):
        seen.update(name=name, rows=len(X_test), ys=len(y_test), features=list(features),
                    min_positives=min_positives, columns=list(X_test.columns))
        return _refused()
    monkeypatch.setattr(tracking, "compare_with_champion", compare)
    res = pipeline.run(_cfg(), tracking_uri=store, verbose=False)
    feats = pipeline.features(res.config)
    assert seen == {"name": "t-model", "rows": 450, "ys": 450, "features": feats,
                    "min_positives": res.config["mlflow"]["champion_min_positives"],
                    "columns": feats}
    # refused even without a champion: registered as @candidate, nothing published
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("t-model", "candidate").version) == "1"
    with pytest.raises(Exception):
        client.get_model_version_by_alias("t-model", "champion")
    assert not (tmp_path / "models").exists() and not (tmp_path / "outputs").exists()
    assert res.stages.loc["publish", "status"] is pipeline.StageStatus.SKIPPED
    text = res.summary("en")
    assert "Champion comparison: refused (12 positives" in text
    assert "冠军比较：拒绝比较" in res.summary("zh")
