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
