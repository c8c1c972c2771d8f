"""The main job end to end: stages, metrics, files, MLflow run and registry, failures, CLI."""

import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.cli import main as cli_main
from bankml.datasets import make_customers
from bankml.config import load_config
from bankml.errors import ConfigError, DataError, SchemaError
from bankml.persistence import load_model
from bankml.pipeline import BOOSTING, SKLEARN, STARS, TREE, StageStatus, run


def test_models_evaluated_on_the_same_test_set(quickstart_run):
    result, _, _ = quickstart_run
    m = result.metrics
    assert set(m.index) == {TREE, SKLEARN, STARS, BOOSTING}
    for col in ["auc", "lift_top10", "capture_top10", "lift_top20", "capture_top20"]:
        assert m[col].notna().all()
    # the synthetic label depends on the features: a real model ranks far above random
    assert (m["auc"] > 0.65).all() and (m["lift_top10"] > 1.5).all()
    assert (m["capture_top20"] >= m["capture_top10"]).all()
    assert 0 < m.loc[TREE, "rule_precision"] <= 1
    # the extracted rules are lossless: their precision is the tree's own
    assert m.loc[TREE, "rule_precision"] == pytest.approx(m.loc[TREE, "precision"])
    assert m["precision"].between(0, 1).all() and m["flagged_share"].between(0, 1).all()


def test_every_stage_recorded(quickstart_run):
    result, _, _ = quickstart_run
    st = result.stages
    assert list(st.index) == ["mlflow_setup", *pipeline.STAGE_NAMES]
    # every package the pipeline calls is in this build: no stage may be skipped
    assert (st["status"] == "ok").all(), st[st["status"] != "ok"]
    assert (st["seconds"] >= 0).all()
    assert result.cross_sell.n_rules > 0 and result.segments.n_segments >= 2
    assert 0 < result.outliers.share_flagged < 0.05
    assert result.outliers.planted_recall > 0.5


def test_files_written(quickstart_run):
    result, work, _ = quickstart_run
    rules_dir = work / "outputs" / "rules"
    for name in ["rules_zh.txt", "rules_en.txt", "rules.md", "rules.csv", "rules.sql",
                 "rules_zh.html", "rules_en.html"]:
        assert (rules_dir / name).stat().st_size > 0, name
    assert "如果" in (rules_dir / "rules_zh.txt").read_text(encoding="utf-8")
    assert "IF" in (rules_dir / "rules_en.txt").read_text()
    assert "CASE" in (rules_dir / "rules.sql").read_text().upper()
    # the branch sheet says which model (and MLflow run) it came from
    for name in ["rules_zh.html", "rules_en.html"]:
        assert result.run_id in (rules_dir / name).read_text(encoding="utf-8"), name
    for name in ["rules_zh.txt", "rules_en.txt", "rules.md", "rules.sql", "rules_en.html"]:
        assert (rules_dir / name).read_text(encoding="utf-8").endswith("\n"), name
    for plot in ["gains_lift.png", "star_distribution.png", "tree.png", "segment_profiles.png"]:
        assert (work / "outputs" / "plots" / plot).stat().st_size > 1000, plot
        # and in Chinese beside it: another picture (its words differ), as large
        zh = work / "outputs" / "plots" / plot.replace(".png", "_zh.png")
        assert zh.stat().st_size > 1000, zh.name
        assert zh.read_bytes() != (work / "outputs" / "plots" / plot).read_bytes(), zh.name
    for name in ["cross_sell_rules.csv", "segments_en.csv", "segments_zh.csv"]:
        assert (work / "outputs" / name).stat().st_size > 0, name
        # a person opens these: no 17-digit floats such as 0.7205472727464180
        assert not re.search(r"\d\.\d{8,}", (work / "outputs" / name).read_text("utf-8")), name
    card = (work / "models" / "wm_propensity_quickstart.md").read_text()
    assert "infogain_tree" in card and "sklearn_entropy_tree" in card and "bankml version" in card
    assert "- test share: 30%" in card and "nan" not in card.lower()


def test_saved_model_predicts_like_the_run_model(quickstart_run):
    result, work, _ = quickstart_run
    model = load_model(work / "models" / "wm_propensity_quickstart.joblib")
    X = make_customers(500, seed=11)[pipeline.features(result.config)]
    np.testing.assert_array_equal(model.predict_proba(X), result.model.predict_proba(X))


def test_mlflow_run_params_metrics_artifacts(quickstart_run):
    result, _, uri = quickstart_run
    client = MlflowClient(uri)
    run_ = client.get_run(result.run_id)
    assert run_.info.status == "FINISHED"
    assert run_.data.params["data.synthetic.n"] == "5000"
    assert run_.data.params["tree.criterion"] == "gain"
    assert run_.data.metrics[f"{TREE}.test.auc"] == pytest.approx(result.metrics.loc[TREE, "auc"])
    assert run_.data.metrics["time.mlflow_s"] > 0
    assert run_.data.tags["bankml.stage.tree"] == "ok"
    # the fidelity gate ran on every test customer and found no difference
    assert run_.data.metrics["rules.fidelity_rows"] == 1500
    assert run_.data.metrics["rules.fidelity_mismatches"] == 0
    assert run_.data.metrics["rules.fidelity_mismatches.predict"] == 0
    arts = {a.path for a in client.list_artifacts(result.run_id, "reports")}
    assert "reports/plots" in arts


def test_candidate_pyfunc_predicts_like_joblib_model(quickstart_run):
    result, work, uri = quickstart_run
    name = result.config["mlflow"]["registered_model"]
    client = MlflowClient(uri)
    assert str(client.get_model_version_by_alias(name, "candidate").version) == "1"
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    mlflow.set_tracking_uri(uri)
    pyf = mlflow.pyfunc.load_model(f"models:/{name}@candidate")
    joblib_model = load_model(work / "models" / "wm_propensity_quickstart.joblib")
    X = make_customers(800, seed=21)[pipeline.features(result.config)]
    np.testing.assert_allclose(np.asarray(pyf.predict(X)), joblib_model.predict_proba(X))


def _small_cfg(**patch):
    cfg = {"data": {"synthetic": {"n": 1500, "seed": 4}},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False},
           "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "t", "registered_model": "t-model"}}
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return "sqlite:///" + str(tmp_path / "mlflow.db")


def _only_run(uri, experiment="t"):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    return client, runs[0]


@pytest.mark.parametrize("bad, error", [
    ("single_class", DataError),
    ("missing_column", SchemaError),
])
def test_failed_stage_marks_run_failed_and_registers_nothing(store, tmp_path, bad, error):
    df = make_customers(800, seed=2)
    if bad == "single_class":
        df["wm_buyer"] = 0
    else:
        df = df.drop(columns=["education"])
    with pytest.raises(error):
        run(_small_cfg(), data=df, tracking_uri=store, verbose=False)
    client, r = _only_run(store)
    assert r.info.status == "FAILED"
    assert r.data.tags["bankml.error"] == error.__name__
    assert client.search_registered_models() == []
    assert not (tmp_path / "models").exists()


def test_worse_model_stays_candidate(store):
    run(_small_cfg(), tracking_uri=store, verbose=False)
    # a stump ranks worse than the depth-4 tree on the same data
    res = run(_small_cfg(tree={"max_depth": 1}), tracking_uri=store, verbose=False)
    assert res.registered["version"] == 2 and res.comparison.decision == "keep"
    assert res.model_path is None and res.reports_dir is None  # models/ stays @champion's
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias("t-model", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("t-model", "candidate").version) == "2"


def test_register_off(store):
    res = run(_small_cfg(mlflow={"register": False}), tracking_uri=store, verbose=False)
    assert res.registered is None and res.stages.loc["register", "status"] is StageStatus.SKIPPED
    assert res.model_path is not None and res.model_path.exists()  # no registry: published
    assert MlflowClient(store).search_registered_models() == []


def test_cli_run_with_data_file_and_tracking_uri(store, tmp_path, capsys):
    import yaml

    make_customers(1200, seed=5).to_csv(tmp_path / "customers.csv", index=False)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(_small_cfg()))
    assert cli_main(["run", str(tmp_path / "cfg.yaml"), "--data", str(tmp_path / "customers.csv"),
                     "--tracking-uri", store]) == 0
    out = capsys.readouterr().out
    assert "Model vs baseline" in out and "information-gain tree" in out and "AUC" in out
    # says what it ran on and where everything went
    assert "Data: file customers.csv (1,200 rows)" in out
    assert f"Reports (rules, cross-sell, segments, plots): {tmp_path / 'outputs'}" in out
    assert f"Model: {tmp_path / 'models' / 'wm_propensity.joblib'}" in out
    assert "wm_propensity.md" in out and "bankml ui" in out
    client, r = _only_run(store)
    assert r.info.status == "FINISHED"
    assert r.data.metrics["data.customers"] == 1200


def test_cli_reports_bad_config_and_data(tmp_path, capsys, store):
    (tmp_path / "cfg.yaml").write_text("data: {synthetic: {n: 10}}\ntree: {depth: 3}\n")
    assert cli_main(["run", str(tmp_path / "cfg.yaml")]) in (1, 2)  # 2 once the CLI says so
    assert "unknown config key 'tree.depth'" in capsys.readouterr().err
    (tmp_path / "ok.yaml").write_text("data: {synthetic: {n: 10}}\n")
    assert cli_main(["run", str(tmp_path / "ok.yaml"), "--data", "nope.xlsx",
                     "--tracking-uri", store]) in (1, 2)
    assert "nope.xlsx does not exist" in capsys.readouterr().err


def test_missing_package_is_reported_not_faked(monkeypatch):
    with pytest.raises(pipeline.StageUnavailable, match="bankml.nosuch is not available"):
        pipeline._stages._require("bankml.nosuch", "X")
    with pytest.raises(pipeline.StageUnavailable, match="bankml.metrics.nosuch"):
        pipeline._stages._require("bankml.metrics", "nosuch")
    assert pipeline._stages._require("bankml.metrics", "auc").__name__ == "auc"


def test_config_error_before_any_run(store):
    with pytest.raises(ConfigError, match="tree.max_depth"):
        run(_small_cfg(tree={"max_depth": "deep"}), tracking_uri=store, verbose=False)


def test_missing_optional_package_is_recorded_and_run_goes_on(store, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "bankml.association", None)  # as if not installed
    res = run(_small_cfg(association={"enabled": True}), tracking_uri=store, verbose=False)
    assert res.stages.loc["association", "status"] is StageStatus.UNAVAILABLE
    assert res.stages.loc["association", "detail"].startswith("bankml.association")
    assert res.cross_sell is None and res.registered["version"] == 1
    client, r = _only_run(store)
    assert r.data.tags["bankml.stage.association"].startswith("unavailable: bankml.association")
    assert "association" in (Path(store[len("sqlite:///"):]).parent / "models"
                             / "wm_propensity.md").read_text()


def test_missing_main_model_fails_the_run(store, monkeypatch):
    # the config itself needs bankml.tree now (it validates the tree section with the
    # estimator), so the tree goes missing where the stage asks for it
    real = pipeline._stages._require

    def require(module, *names):
        if "InfoGainTreeClassifier" in names:
            raise pipeline.StageUnavailable("bankml.tree.InfoGainTreeClassifier is not available")
        return real(module, *names)
    monkeypatch.setattr(pipeline._stages, "_require", require)
    with pytest.raises(pipeline.StageUnavailable, match="InfoGainTreeClassifier"):
        run(_small_cfg(), tracking_uri=store, verbose=False)
    client, r = _only_run(store)
    assert r.info.status == "FAILED"
    assert r.data.tags["bankml.stage.tree"] == "failed: StageUnavailable"
    assert client.search_registered_models() == []


def test_load_data_from_parquet_csv_and_bad_suffix(tmp_path):
    from bankml.config import validate_config

    cfg = validate_config({"data": {"path": "unused.csv"}})
    df = make_customers(300, seed=8)
    df.to_parquet(tmp_path / "c.parquet")
    got, truth, source = pipeline.load_data(cfg, tmp_path / "c.parquet")
    desc = source.describe(len(got), lang="en")
    assert len(got) == 300 and truth is None and desc == "file c.parquet (300 rows)"
    assert "C008" not in desc and source.describe(len(got), lang="zh") == "文件 c.parquet（300 行）"
    (tmp_path / "c.xlsx").write_text("x")
    with pytest.raises(DataError, match="expected a .csv or .parquet"):
        pipeline.load_data(cfg, tmp_path / "c.xlsx")
    with pytest.raises(DataError, match="does not exist"):
        pipeline.load_data(validate_config({"data": {"path": str(tmp_path / "no.csv")}}))


def test_rule_precision_is_the_tree_precision_on_the_test_set(quickstart_run):
    # the rules are lossless (one per leaf, simplified without changing predictions), so the
    # buyer rate among test customers the rules flag equals the tree's own precision there
    result, _, _ = quickstart_run
    cfg = result.config
    df = make_customers(cfg["data"]["synthetic"]["n"], seed=cfg["data"]["synthetic"]["seed"])
    _, test = pipeline.split_customers(df, cfg)
    X = df.iloc[test][pipeline.features(cfg)]
    y = df["wm_buyer"].to_numpy()[test]
    pred = result.model.predict(X) == 1
    assert result.metrics.loc[TREE, "rule_precision"] == pytest.approx(y[pred].mean())
    assert result.rules.coverage == pytest.approx(pred.mean())
    rules = result.rules.ruleset
    got = rules.predict(X)  # rules on the RAW columns
    np.testing.assert_array_equal(np.asarray(got) == 1, pred)


def test_exported_rule_evidence_is_unweighted_even_with_balanced_tree(store, tmp_path):
    # a class-weighted tree's leaf "confidence" is a weighted share; the exported rules must
    # show the plain buyer share among the training customers each rule covers
    cfg = load_config(_small_cfg(tree={"class_weight": "balanced"}))
    df = make_customers(1500, seed=4)
    split = pipeline.split_customers(df, cfg)
    X, y = split.X_train, split.y_train
    model = pipeline.fit_tree(X, y, cfg)
    rules = pipeline.extract_rules(model, split, cfg, tmp_path).ruleset
    first = np.asarray(rules.apply(X))
    checked = 0
    for i, rule in enumerate(rules.rules):
        cover = first == i
        if not cover.any():
            continue
        assert rule.support == int(cover.sum())
        assert rule.confidence == pytest.approx(float((y[cover] == rule.prediction).mean()))
        checked += 1
    assert checked > 0
    # the balanced tree flags leaves whose plain buyer share is far below 50%
    assert min(r.confidence for r in rules.rules) < 0.5
    frame = pd.read_csv(tmp_path / "rules.csv")
    assert frame["confidence"].tolist() == pytest.approx([r.confidence for r in rules.rules])
    # the files do not call these plain shares "weighted"
    assert "weighted" not in (tmp_path / "rules_en.txt").read_text(encoding="utf-8")
    assert "加权" not in (tmp_path / "rules_zh.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["rules", "mlflow_log"])
def test_late_stage_failure_marks_run_failed_and_registers_nothing(store, monkeypatch, where):
    # a stage failing after the models are fitted (not just a data error up front)
    import bankml.tracking

    def boom(*a, **k):
        raise RuntimeError("stage broke")
    if where == "rules":
        monkeypatch.setattr(pipeline._stages, "extract_rules", boom)
    else:
        monkeypatch.setattr(bankml.tracking.RunTracker, "log_model", boom)
    with pytest.raises(RuntimeError, match="stage broke"):
        run(_small_cfg(), tracking_uri=store, verbose=False)
    client, r = _only_run(store)
    assert r.info.status == "FAILED" and r.data.tags["bankml.error"] == "RuntimeError"
    assert client.search_registered_models() == []


def test_summary_table_scores_all_three_on_the_same_test_customers(quickstart_run):
    # recompute each model's AUC by hand on the test split: the star baseline from the raw
    # star points, the two trees refitted on the training split
    from sklearn.metrics import roc_auc_score

    from bankml.stars import StarScorer

    result, _, _ = quickstart_run
    cfg = result.config
    df = make_customers(cfg["data"]["synthetic"]["n"], seed=cfg["data"]["synthetic"]["seed"])
    train, test = pipeline.split_customers(df, cfg)
    feats = pipeline.features(cfg)
    y = df["wm_buyer"].to_numpy()
    points = StarScorer().star_points(df.iloc[test]).to_numpy(float)
    m = result.metrics
    assert m.loc[STARS, "auc"] == pytest.approx(roc_auc_score(y[test], points))
    cart = pipeline.fit_sklearn_tree(df.iloc[train][feats], y[train], cfg)
    assert m.loc[SKLEARN, "auc"] == pytest.approx(
        roc_auc_score(y[test], cart.predict_proba(df.iloc[test][feats])[:, 1]))
    assert m.loc[TREE, "auc"] == pytest.approx(
        roc_auc_score(y[test], result.model.predict_proba(df.iloc[test][feats])[:, 1]))


def test_summary_shows_no_nan(quickstart_run):
    # rule_precision exists only for the tree: the other rows show "-", not NaN
    result, _, _ = quickstart_run
    text = result.summary("en")
    assert "NaN" not in text and "nan" not in text
    assert "Model vs baseline on the test set:" in text and "Registered version 1" in text


def test_same_config_twice_keeps_the_first_champion(store):
    first = run(_small_cfg(), tracking_uri=store, verbose=False)
    second = run(_small_cfg(), tracking_uri=store, verbose=False)
    assert second.metrics.loc[TREE, "auc"] == first.metrics.loc[TREE, "auc"]  # deterministic
    assert second.registered["version"] == 2 and second.comparison.decision == "keep"
    assert second.comparison.champion_version == 1
    assert "@champion stays version 1" in second.summary("en")
    assert "本次运行不是 @champion" in second.summary("zh")


def test_summary_in_chinese(quickstart_run):
    result, _, _ = quickstart_run
    zh, en = result.summary("zh"), result.summary("en")
    for text in ["测试集上模型与星级基线对比", "信息增益决策树", "星级基线", "前10%提升度",
                 "已注册版本 1 为 @candidate，并晋升为 @champion", "报告（规则、交叉销售、客群、图表）",
                 "模型卡 wm_propensity_quickstart.md"]:
        assert text in zh and text not in en
    assert "Model vs baseline" not in zh and "Model vs baseline on the test set:" in en
    # the numbers are the same in both languages
    assert f"{result.metrics.loc[TREE, 'auc']:.3f}" in zh
    capture = f"{result.metrics.loc[TREE, 'capture_top10']:.1%}"
    assert capture in zh and capture in en  # shares read as percentages
    with pytest.raises(ValueError, match="lang"):
        result.summary("fr")


def test_summary_in_chinese_has_no_english_stage_table_or_source(quickstart_run):
    result, _, _ = quickstart_run
    zh, en = result.summary("zh"), result.summary("en")
    assert "合成数据 make_customers(n=" in zh and "synthetic" not in zh
    assert "synthetic make_customers(n=" in en
    stage_table = zh.split("各阶段：")[1].split("\n\n")[0]
    assert "状态" in stage_table and "耗时（秒）" in stage_table and "完成" in stage_table
    assert "status" not in stage_table and " ok" not in stage_table
    assert "status" in en and " ok" in en


def test_model_card_metrics_read_as_percentages():
    m = pd.DataFrame({"auc": [0.78451, 0.7], "lift_top10": [2.5753, 2.0],
                      "capture_top10": [0.2575, 0.2], "rule_precision": [0.5181, np.nan]},
                     index=["infogain_tree", "star_baseline"])
    rows = pipeline._summary.card_metrics(m)
    assert rows[0] == {"model": "infogain_tree", "auc": "0.785", "lift_top10": "2.58",
                       "capture_top10": "25.8%", "rule_precision": "51.8%"}
    assert rows[1]["rule_precision"] == "-"


def test_summary_status_and_source_texts():
    assert StageStatus.SKIPPED.text("zh") == "已跳过（配置中停用）"
    assert StageStatus.UNAVAILABLE.text("zh", "x") == "不可用：x"
    assert StageStatus.UNAVAILABLE.text("en", "x") == "not available: x"
    assert StageStatus.SKIPPED.text("en", "not_champion") == "not published (not @champion)"
    src = pipeline.DataSource("parquet", path=Path("c.parquet"))
    assert src.describe(1200, lang="zh") == "文件 c.parquet（1,200 行）"
    assert src.describe(1200, lang="en") == "file c.parquet (1,200 rows)"
    assert pipeline.DataSource("frame").describe(5, lang="en") == "DataFrame (5 rows)"


def test_cli_run_lang_zh(store, tmp_path, capsys):
    import yaml

    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(_small_cfg()))
    assert cli_main(["run", str(tmp_path / "cfg.yaml"), "--tracking-uri", store,
                     "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "测试集上模型与星级基线对比" in out and "信息增益决策树" in out


@pytest.mark.parametrize("where", ["mlflow_log", "register"])
def test_failed_run_never_replaces_the_published_model(store, tmp_path, monkeypatch, where):
    import bankml.tracking
    from bankml.persistence import load_model

    first = run(_small_cfg(), tracking_uri=store, verbose=False)
    models = tmp_path / "models"
    before = {p.name: p.read_bytes() for p in models.iterdir()}
    assert first.model_path.parent.resolve() == models.resolve()
    assert sorted(before) == sorted([first.model_path.name, first.model_path.name + ".sha256",
                                     first.model_path.stem + ".md",
                                     first.model_path.stem + "_zh.md"])

    def boom(*a, **k):
        raise RuntimeError("stage broke")
    if where == "register":
        monkeypatch.setattr(bankml.tracking, "register_and_promote", boom)
    else:
        monkeypatch.setattr(bankml.tracking.RunTracker, "log_model", boom)
    with pytest.raises(RuntimeError, match="stage broke"):
        run(_small_cfg(tree={"max_depth": 2}), tracking_uri=store, verbose=False)
    # same files, same bytes, no staging folder left behind; the old model still loads
    assert {p.name: p.read_bytes() for p in models.iterdir()} == before
    load_model(first.model_path)


def test_published_sql_sheet_equals_the_published_model(quickstart_run):
    # issue 12.1/12.2 at the pipeline's end: the branch's SQL (on the raw columns, bands
    # included) flags exactly the customers the published model flags
    import sqlite3

    result, work, _ = quickstart_run
    model = load_model(work / "models" / "wm_propensity_quickstart.joblib")
    df = make_customers(3000, seed=31)
    con = sqlite3.connect(":memory:")
    df.to_sql("customers", con, index=False)
    got = pd.read_sql((work / "outputs" / "rules" / "rules.sql").read_text(encoding="utf-8"), con)
    want = pd.Series(model.predict(df[pipeline.features(result.config)]), index=df["customer_id"])
    got = got.set_index("customer_id")["prediction"].reindex(want.index)
    assert got.notna().all() and (got.astype(int) == want.astype(int)).all()
    assert "'>55'" not in (work / "outputs" / "rules" / "rules.sql").read_text(encoding="utf-8")
