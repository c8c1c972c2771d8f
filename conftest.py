"""Test-session settings shared by every test: headless plots, no network, no stray MLflow store."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests must never write an mlflow.db into the repo: a test that needs MLflow sets its own
# temporary tracking URI; this default points anything that forgets at a throwaway folder.
os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///" + os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"bankml-test-mlflow-{os.getpid()}.db"))


# Under CI a test that skips because an engine is missing (pyspark, Java, DuckDB, a browser)
# has not run: it must fail, or the path it guards could pass by never running.
_MISSING_ENGINE = ("not installed", "no java", "not found", "missing engine", "no browser",
                   "chromium")


def _engine_skip(report) -> bool:
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return False
    reason = str(report.longrepr[2]).lower()
    return any(word in reason for word in _MISSING_ENGINE)


def _fail_engine_skip(report):
    if os.environ.get("CI", "").lower() == "true" and _engine_skip(report):
        reason = report.longrepr[2]
        report.outcome = "failed"
        report.longrepr = ("CI=true: skipped for a missing engine, which counts as a failure: "
                           f"{reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_engine_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_engine_skip(outcome.get_result())
