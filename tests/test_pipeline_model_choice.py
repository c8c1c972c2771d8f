"""Issue 13 item 7: the config chooses the model and how its complexity is chosen; the
comparison table carries gradient boosting as a reference row, never published."""

import pytest
from mlflow import MlflowClient

from bankml import pipeline
from bankml.config import validate_config
from bankml.errors import ConfigError
from bankml.pipeline import _stages as S
from bankml.rules import check_fidelity, rules_from_pipeline
from bankml.tree import InfoGainTreeCV


def _cfg(**patch):
    cfg = {"data": {"synthetic": {"n": 3000, "seed": 2}},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False}, "output": {"progress": False, "plots": False},
           "mlflow": {"experiment": "choice", "registered_model": "choice"},
           "tree": {"max_depth": 6, "min_samples_leaf": 10}}
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return "sqlite:///" + str(tmp_path / "mlflow.db")


def test_selected_tree_keeps_the_rule_budget_and_boosting_is_a_reference_row(store, tmp_path):
    result = pipeline.run(_cfg(model={"select": True, "max_rules": 8, "cv": 3}),
                          tracking_uri=store, verbose=False)
    cv = result.model.named_steps["tree"]
    assert isinstance(cv, InfoGainTreeCV) and cv.n_rules_ <= 8
    # the unselected depth-6 tree of the same config has more leaves than the budget
    assert cv.cv_results_ is not None
    assert set(result.metrics.index) >= {S.TREE, S.SKLEARN, S.STARS, S.BOOSTING}
    assert 0.5 < result.metrics.loc[S.BOOSTING, "auc"] <= 1
    assert result.fidelity.ok
    # the published model is the selected tree, not the boosting reference
    client = MlflowClient(store)
    run = client.get_run(result.run_id)
    assert run.data.metrics["boosting_reference.test.auc"] == pytest.approx(
        result.metrics.loc[S.BOOSTING, "auc"])
    assert "boosting" not in "".join(p.name for p in (tmp_path / "models").iterdir())


def test_selected_pipeline_rules_equal_the_model(store):
    cfg = validate_config(_cfg(model={"select": True, "max_rules": 12, "cv": 3}))
    from bankml.datasets import make_customers

    df = make_customers(2000, seed=9)
    X, y = df[S.features(cfg)], df["wm_buyer"]
    model = S.fit_tree(X, y, cfg)
    rules = rules_from_pipeline(model)
    assert len(rules.rules) + 1 <= 13  # at most 12 leaves: target rules plus the default
    assert check_fidelity(rules, model, X).ok


def test_boosting_reference_can_be_switched_off(store):
    result = pipeline.run(_cfg(model={"boosting_reference": False}), tracking_uri=store,
                          verbose=False)
    assert S.BOOSTING not in result.metrics.index
    assert result.stages.loc["boosting", "status"] == "skipped"


@pytest.mark.parametrize("model, match", [
    ({"kind": "xgboost"}, "model.kind"),
    ({"max_rules": 0}, "model.max_rules"),
    ({"scoring": "accuracy"}, "model.scoring"),
    ({"cv": 1}, "model.cv"),
    ({"select": "yes"}, "model.select"),
])
def test_bad_model_section_names_the_key(model, match):
    with pytest.raises(ConfigError, match=match):
        validate_config(_cfg(model=model))


# --------------------------------------------------------------------------- model.kind: rule_scorecard
def _scorecard_cfg(**patch):
    # bands on: the scorecard is fitted on age bands, its published table reads raw ages
    base = {"model": {"kind": "rule_scorecard"},
            "scorecard": {"max_rules": 10, "n_estimators": 6},
            "features": {"bands": {"age": [30, 55]}}}
    for k, v in patch.items():
        base[k] = {**base.get(k, {}), **v}
    return _cfg(**base)


def test_scorecard_main_job_end_to_end(store, tmp_path):
    import mlflow.sklearn
    import numpy as np

    from bankml.rules import Scorecard, from_json
    from bankml.scorecard import RuleScorecardClassifier

    result = pipeline.run(_scorecard_cfg(output={"plots": True}), tracking_uri=store,
                          verbose=False)
    # the figures a scorecard has (no tree to draw; its sheet is its picture)
    plots = tmp_path / "outputs" / "plots"
    assert (plots / "gains_lift.png").exists() and not (plots / "tree.png").exists()
    assert result.stages.loc["plots", "status"] == "ok"
    # the comparison: the scorecard's row and boosting's, never a tree row for the main model
    assert S.SCORECARD in result.metrics.index and S.BOOSTING in result.metrics.index
    assert S.TREE not in result.metrics.index
    assert 0.5 < result.metrics.loc[S.SCORECARD, "auc"] <= 1
    sc_est = result.model.named_steps["scorecard"]
    assert isinstance(sc_est, RuleScorecardClassifier) and len(sc_est.rules_) <= 10
    sc = result.rules.ruleset
    assert isinstance(sc, Scorecard)
    # the points table reads on raw columns: no band label in any condition
    on_age = [c for r in sc.rules for c in r.conditions if c.feature == "age"]
    assert on_age and all(c.op in ("<=", "<", ">", ">=") for c in on_age)
    assert set(sc.feature_names) == set(S.features(result.config))
    # the gate ran on every test customer
    split = S.split_customers(S.load_data(result.config).frame, result.config)
    assert result.fidelity.ok and result.fidelity.n_rows == len(split.X_test)
    # the scorecard's files, published
    rules_dir = tmp_path / "outputs" / "rules"
    for name in ("scorecard_zh.txt", "scorecard_en.txt", "scorecard.md", "scorecard_zh.md",
                 "scorecard.sql", "scorecard.csv", "scorecard_zh.csv", "scorecard_zh.html",
                 "scorecard_en.html", "scorecard.json"):
        assert (rules_dir / name).stat().st_size > 0, name
    assert not (rules_dir / "rules.csv").exists()
    assert "加" in (rules_dir / "scorecard_zh.txt").read_text(encoding="utf-8")
    assert "CASE" in (rules_dir / "scorecard.sql").read_text(encoding="utf-8")
    back = from_json((rules_dir / "scorecard.json").read_text(encoding="utf-8"))
    assert (back.total_points(split.X_test) == sc.total_points(split.X_test)).all()
    # the registered champion's probabilities are the scorecard's, row by row
    champion = mlflow.sklearn.load_model("models:/choice@champion")
    np.testing.assert_allclose(champion.predict_proba(split.X_test)[:, 1],
                               sc.predict_proba(split.X_test), rtol=1e-12)
    # the report and the card say scorecard; MLflow has its numbers, no rule coverage
    report = (tmp_path / "outputs" / "report_en.html").read_text(encoding="utf-8")
    assert "Scorecard (" in report and "base points" in report
    card = (tmp_path / "models" / "wm_propensity_zh.md").read_text(encoding="utf-8")
    assert "规则评分卡" in card and "基础分" in card
    run = MlflowClient(store).get_run(result.run_id)
    assert run.data.metrics["scorecard.n_rules"] == len(sc.rules)
    assert "rules.coverage" not in run.data.metrics
    assert run.data.metrics["rule_scorecard.test.auc"] == pytest.approx(
        result.metrics.loc[S.SCORECARD, "auc"])
    assert "规则评分卡" in result.summary("zh") and "rule scorecard" in result.summary("en")


def test_scorecard_on_raw_columns_splits_non_adjacent_bands_exactly():
    """A rule on bands {<=30, >55} becomes two raw-age rules with the same points; every
    total (boundaries, missing ages) stays the pipeline's."""
    import numpy as np
    import pandas as pd

    from bankml.datasets import make_customers
    from bankml.pipeline._scorecard import fit_scorecard, scorecard_on_raw_columns
    from bankml.rules import Condition

    cfg = validate_config(_scorecard_cfg())
    df = make_customers(1500, seed=4)
    X = df[S.features(cfg)].astype({"age": float})  # room for a missing age below
    model = fit_scorecard(X, df["wm_buyer"], cfg)
    est = model[-1]
    est.rules_ = list(est.rules_) + [(Condition("age", "in", frozenset({"<=30", ">55"})),)]
    est.points_ = np.append(est.points_, 9)
    est.coverage_ = np.append(est.coverage_, 0.5)
    sc = scorecard_on_raw_columns(model)
    ages = [r for r in sc.rules if r.points == 9 and r.features == ["age"]]
    assert len(ages) >= 2
    X.loc[X.index[:6], "age"] = [30, 30.0001, 55, 55.5, np.nan, 18]
    X.loc[X.index[6], "long_term_assets"] = np.nan
    expected = est.total_points(model[0].transform(X))
    assert (sc.total_points(X) == expected).all()
    assert pd.Series(expected[:6]).nunique() > 1  # the boundaries do fall on both sides


@pytest.mark.parametrize("scorecard, match", [
    ({"max_rule": 5}, "scorecard.max_rule"),
    ({"max_rules": 0}, "scorecard.max_rules"),
    ({"max_conditions": 9}, "scorecard.max_conditions"),
    ({"pdo": -1}, "scorecard.pdo"),
    ({"single_feature_rules": "yes"}, "scorecard.single_feature_rules"),
    ({"monotonic_cst": {"age": 1}}, r"scorecard.monotonic_cst': 'age' is banded"),
    ({"monotonic_cst": {"gender": 1}}, r"scorecard.monotonic_cst': 'gender' is not in"),
])
def test_bad_scorecard_key_names_it(scorecard, match):
    with pytest.raises(ConfigError, match=match):
        validate_config(_scorecard_cfg(scorecard=scorecard))


def test_selecting_a_tree_with_the_scorecard_is_refused():
    with pytest.raises(ConfigError, match="model.select"):
        validate_config(_scorecard_cfg(model={"select": True}))


def test_default_kind_still_writes_the_rule_set(tmp_path):
    """model.kind defaults to infogain_tree: rules.*, no scorecard files, the tree row."""
    from bankml.datasets import make_customers

    cfg = validate_config(_cfg())
    assert cfg["model"]["kind"] == "infogain_tree"
    df = make_customers(1500, seed=3)
    split = S.split_customers(df, cfg)
    model = S.fit_tree(split.X_train, split.y_train, cfg)
    res = S.extract_rules(model, split, cfg, tmp_path)
    assert res.kind == "rules" and (tmp_path / "rules.csv").exists()
    assert not list(tmp_path.glob("scorecard*"))
    assert set(res.metrics()) == {"rules.n", "rules.coverage"}


def test_scorecard_for_several_products_chinese_headers_and_next_best(store, tmp_path):
    """Two products on a table with Chinese headers and a user-labelled extra feature, both
    scorecards: the next-best table names, per customer, the holding rule that adds the
    most points to the offered product (or says the scorecard has none)."""
    import numpy as np
    import pandas as pd

    from bankml.datasets import make_customers
    from bankml.rules import Scorecard
    from bankml.schema import ID, LABEL

    df = make_customers(1500, seed=5)
    rng = np.random.default_rng(5)
    df["branch_score"] = np.round(np.where(df[LABEL] == 1, rng.uniform(70, 100, len(df)),
                                           rng.uniform(0, 85, len(df))), 1)
    names = {"客户号": ID, "年龄": "age", "学历": "education", "短期资产": "short_term_assets",
             "持有基金": "has_fund", "理财购买": LABEL, "客户经理评分": "branch_score"}
    df.rename(columns={v: k for k, v in names.items()}).to_csv(tmp_path / "bank.csv",
                                                               index=False)
    (tmp_path / "labels.yaml").write_text("branch_score: {zh: 客户经理评分, en: RM score}\n",
                                          encoding="utf-8")
    cfg = _scorecard_cfg(data={"path": str(tmp_path / "bank.csv"), "columns": names},
                         features={"categorical": ["education"],
                                   "numeric": ["age", "short_term_assets", "has_fund",
                                               "branch_score"]})
    cfg.update(targets=[LABEL, "has_fund"], labels=str(tmp_path / "labels.yaml"))
    del cfg["data"]["synthetic"]
    result = pipeline.run(cfg, tracking_uri=store, verbose=False)
    table = result.next_best.table
    X = S.load_data(validate_config(cfg)).frame
    for target, r in result.results.items():
        assert S.SCORECARD in r.metrics.index and r.fidelity.ok
        sc = r.rules.ruleset
        rows = np.flatnonzero(table["product"].to_numpy(dtype=object) == target)
        pos = table["rule_position"].to_numpy()[rows]
        Xp = X.iloc[rows][S.features(r.config)]
        assert pos.max() < len(sc.rules) and (pos >= 0).any()
        for k in np.unique(pos[pos >= 0]):  # the rule named holds, and adds points
            rule = sc.rules[k]
            alone = Scorecard([rule], base_points=0, calibration=(1.0, 0.0))
            assert rule.points > 0
            assert (alone.total_points(Xp[pos == k]) == rule.points).all()
        # and no holding rule adds more
        for rule in sc.rules:
            holds = Scorecard([rule], calibration=(1.0, 0.0)).total_points(Xp) == rule.points
            best = np.array([sc.rules[k].points if k >= 0 else 0 for k in pos])
            assert (best[holds] >= rule.points).all()
    zh = pd.read_csv(tmp_path / "outputs" / "next_best_product_zh.csv", dtype={ID: str})
    assert "客户经理评分" in "".join(zh["触发规则"].dropna().astype(str))
    none = zh["规则编号"].isna() & (table["product"].to_numpy(dtype=object) != "")
    assert none.any() and (zh.loc[none, "触发规则"] == "评分卡：无加分规则命中").all()


def test_scorecard_setting_wrong_for_the_features_names_the_config_key():
    from bankml.datasets import make_customers
    from bankml.pipeline._scorecard import fit_scorecard

    cfg = validate_config(_scorecard_cfg(scorecard={"monotonic_cst": [1, 0]}))
    df = make_customers(600, seed=1)
    with pytest.raises(ConfigError, match=r"scorecard.monotonic_cst': must have one value per "
                                          r"feature \(5\)"):
        fit_scorecard(df[S.features(cfg)], df["wm_buyer"], cfg)
    # an unbanded numeric feature by name is fine, and holds
    cfg = validate_config(_scorecard_cfg(scorecard={"monotonic_cst": {"long_term_assets": 1},
                                                    "n_estimators": 3}))
    model = fit_scorecard(df[S.features(cfg)], df["wm_buyer"], cfg)
    X = df[S.features(cfg)].head(50)
    richer = X.assign(long_term_assets=X["long_term_assets"] * 3 + 1)
    assert (model.predict_proba(richer)[:, 1] >= model.predict_proba(X)[:, 1]).all()
