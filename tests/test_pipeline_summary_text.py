"""The printed run summary reads as words in both languages and lines up in a terminal."""

import unicodedata

import numpy as np
import pandas as pd
import pytest

from bankml.pipeline._summary import PipelineResult, StageRecord, StageStatus, stage_table


def _cells(line: str) -> int:
    # a terminal gives wide (W) and full-width (F) characters two cells
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


@pytest.fixture
def result():
    metrics = pd.DataFrame(
        {"auc": [0.81, 0.79, 0.7], "lift_top10": [3.1, 2.9, 2.0],
         "capture_top10": [0.31, 0.29, 0.2], "flagged_share": [0.1, 0.1, 0.1],
         "rule_precision": [0.5, np.nan, np.nan]},
        index=["infogain_tree", "sklearn_entropy_tree", "star_baseline"])
    stages = stage_table([StageRecord("data", StageStatus.OK, 1.0),
                          StageRecord("segments", StageStatus.SKIPPED, 0.0),
                          StageRecord("mlflow_setup", StageStatus.OK, 0.5),
                          StageRecord("new_stage", StageStatus.OK, 0.1)])
    return PipelineResult(config={}, metrics=metrics, stages=stages)


def test_english_headings_are_words_not_keys(result):
    # regression (issue 17): headings printed as snake_case keys (lift_top10, infogain_tree)
    text = result.summary("en")
    for word in ["lift, top 10%", "capture, top 10%", "information-gain tree", "star baseline",
                 "flagged as buyers", "rule precision", "AUC", "MLflow setup"]:
        assert word in text
    for key in ["lift_top10", "capture_top10", "infogain_tree", "star_baseline",
                "flagged_share", "rule_precision", "mlflow_setup", "pipeline_"]:
        assert key not in text
    assert "new_stage" in text  # a stage without a label keeps its name, not a term key


def test_chinese_stage_names_and_columns_line_up(result):
    text = result.summary("zh")
    for word in ["数据", "客群细分", "MLflow 准备", "前10%提升度", "信息增益决策树"]:
        assert word in text
    assert "segments" not in text and "mlflow_setup" not in text and "pipeline_" not in text
    # every line of each table has the same width in terminal cells
    blocks = text.split("\n\n")
    n_rows = {"测试集": len(result.metrics), "各阶段": len(result.stages)}
    tables = [b.splitlines()[1:3 + n] for b in blocks for k, n in n_rows.items()
              if b.startswith(k)]
    assert len(tables) == 2 and len(tables[1]) == 2 + len(result.stages)
    for lines in tables:
        assert len({_cells(line) for line in lines}) == 1, lines
