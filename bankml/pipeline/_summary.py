"""What a run produced (`PipelineResult`), its stage records, and the printed summary."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..labels import DEFAULT_LANG, check_lang
from ._text import text

__all__ = ["StageStatus", "StageRecord", "PipelineResult", "TargetsResult"]


class StageStatus(str, enum.Enum):
    """How a stage ended; the value is the English word logged to MLflow."""

    OK = "ok"
    SKIPPED = "skipped"          # disabled in the config
    UNAVAILABLE = "unavailable"  # its bankml package is not in this build
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    def text(self, lang: str, detail: str = "") -> str:
        """The status for a person, in ``lang``."""
        if self is StageStatus.UNAVAILABLE:
            return text("pipeline_status_unavailable", lang, reason=detail)
        if self is StageStatus.SKIPPED and detail:  # skipped for a reason other than config
            return text(f"pipeline_status_{detail}", lang)
        return text(f"pipeline_status_{self.value}", lang)


@dataclass(frozen=True)
class StageRecord:
    """One stage's status, seconds and (for unavailable/failed) why, in English."""

    stage: str
    status: StageStatus
    seconds: float
    detail: str = ""

    @property
    def tag(self) -> str:
        """The MLflow tag value: the status, and the reason when there is one."""
        return self.status.value + (f": {self.detail}" if self.detail else "")


def stage_table(records) -> pd.DataFrame:
    # object dtype keeps the StageStatus members (pandas 3 would turn them into plain str)
    index = pd.Index([r.stage for r in records], name="stage")
    return pd.DataFrame({"status": pd.Series([r.status for r in records], index, object),
                         "detail": [r.detail for r in records],
                         "seconds": [r.seconds for r in records]}, index=index)


def metric_cell(name, v) -> str:
    """One metric for a person: AUC to 3 places, lifts to 2, the shares (capture,
    precision, flagged) as percentages, a metric a model lacks as "-"."""
    v = float(v)
    if v != v:
        return "-"
    if name == "auc":
        return f"{v:.3f}"
    return f"{v:.2f}" if name.startswith("lift") else f"{v:.1%}"


def card_metrics(metrics: pd.DataFrame) -> list:
    """The metrics table as the model card prints it (see :func:`metric_cell`)."""
    return [{"model": k, **{c: metric_cell(c, v) for c, v in r.items()}}
            for k, r in metrics.iterrows()]


@dataclass(frozen=True, eq=False)
class PipelineResult:
    """What :func:`run` produced; no customer rows are kept.

    ``model_path`` and ``reports_dir`` are set only when this run's files were published
    (it became ``@champion``, or registration is off); the published outputs always belong
    to ``@champion``.
    """

    config: dict
    metrics: pd.DataFrame
    stages: pd.DataFrame
    run_id: str | None = None
    tracking_uri: str | None = None
    model: object = None
    model_path: Path | None = None
    registered: dict | None = None
    comparison: object = None
    fidelity: object = None
    rules: object = None
    cross_sell: object = None
    segments: object = None
    outliers: object = None
    artifacts: tuple = field(default_factory=tuple)
    mlflow_seconds: float = 0.0
    data_source: dict | None = None  # {"en": ..., "zh": ...}: what was read, no customer
    reports_dir: Path | None = None
    target: str | None = None  # the 0/1 column the model predicts
    registered_name: str | None = None  # its registered model's name

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """The model-vs-baseline table and the stage table, as printed by ``bankml run``."""
        check_lang(lang)

        def t(key, **values):
            return text(f"pipeline_{key}", lang, **values)
        fmt = pd.DataFrame({c: [metric_cell(c, v) for v in self.metrics[c]]
                            for c in self.metrics.columns}, index=self.metrics.index)
        fmt = fmt.rename(index=lambda k: t(k), columns=lambda k: t(k))
        fmt.index.name = t("model")
        st = pd.DataFrame({t("status"): [s.text(lang, d)[:70] for s, d in
                                         zip(self.stages["status"], self.stages["detail"])],
                           t("seconds"): self.stages["seconds"]}, index=self.stages.index)
        # stage names for a person; a stage without a label keeps its key, never the term key
        # a scorecard run's "tree" and "rules" stages fit and export the scorecard
        sc = getattr(self.rules, "kind", None) == "rule_scorecard"
        key = {k: f"stage_{k}_scorecard" for k in ("tree", "rules")} if sc else {}
        st = st.rename(index=lambda k: (lambda w: k if w.startswith("pipeline_stage_") else w)(
            t(key.get(k, f"stage_{k}"))))
        st.index.name = t("stage")
        lines = []
        if self.target:
            lines += [t("target", target=self.target)]
        if self.data_source:
            lines += [t("data", source=self.data_source[lang]), ""]
        # Chinese characters are two columns wide on a terminal
        with pd.option_context("display.unicode.east_asian_width", lang == "zh"):
            table, stages = fmt.to_string(), st.to_string(float_format=lambda v: f"{v:.2f}")
        lines += [t("vs_baseline"), table, "", t("stages"), stages]
        lines += self._decision_lines(t, lang)
        total = float(self.stages["seconds"].sum())
        if total:
            lines += [t("mlflow_time", mlflow=self.mlflow_seconds, total=total,
                        share=self.mlflow_seconds / total)]
        if self.run_id:
            lines += [t("mlflow_run", run_id=self.run_id, uri=self.tracking_uri)]
        if self.reports_dir is not None:
            lines += [t("reports", path=self.reports_dir.resolve())]
        if self.model_path is not None:
            card = self.model_path.with_name(self.model_path.stem + ".md")
            lines += [t("model_file", path=self.model_path.resolve(),
                        checksum=self.model_path.name + ".sha256", card=card.name)]
        return "\n".join(lines)

    def _decision_lines(self, t, lang) -> list:
        lines = []
        if self.fidelity is not None:
            engines = ", ".join(sorted(self.fidelity.mismatches))
            lines += ["", t("fidelity", rows=self.fidelity.n_rows, engines=engines)]
            skipped = getattr(self.fidelity, "skipped", None)
            if skipped:  # an engine not checked is said, never passed over in silence
                lines[-1] += t("fidelity_skipped", engines=", ".join(sorted(skipped)))
        c, r = self.comparison, self.registered or {}
        if c is not None:  # registration may have revised it (the champion changed meanwhile)
            decision, reason = r.get("decision", c.decision), r.get("reason", c.reason)
            lines += [t("champion", decision=t(f"decision_{decision}"), reason=reason)]
        if self.registered:
            r = self.registered
            line = t("registered", version=r["version"])
            if r["promoted"]:
                line += t("promoted")
            elif r.get("previous_champion") is not None:
                line += t("not_promoted", previous=r["previous_champion"])
            lines += [line]
        if self.model_path is None and self.registered:
            lines += [t("not_published")]
        return lines


@dataclass(frozen=True, eq=False)
class TargetsResult:
    """What :func:`run` produced for ``targets:``: one :class:`PipelineResult` per product and
    the next-best-product table (``next_best``; its files, with customer ids, only under
    ``next_best_paths`` when every product's model was published)."""

    config: dict
    results: dict
    next_best: object = None
    next_best_paths: dict | None = None
    not_published: tuple = ()
    products: dict = field(default_factory=dict)  # their labels name them in the summary

    def __getitem__(self, target) -> PipelineResult:
        return self.results[target]

    def summary(self, lang: str = DEFAULT_LANG) -> str:
        """Each product's summary under its name, then the next-best-product counts."""
        from ._next_best import summary_lines

        check_lang(lang)
        lines = []
        for target, r in self.results.items():
            lines += [text("pipeline_targets_header", lang, target=target,
                           registered=r.registered_name), r.summary(lang), ""]
        if self.next_best is not None:
            path = self.next_best_paths[lang].resolve() if self.next_best_paths else "-"
            lines += summary_lines(self.next_best, path, lang, self.products)
        if self.not_published:
            lines += [text("pipeline_next_best_not_written", lang,
                           targets=", ".join(self.not_published))]
        return "\n".join(lines)
