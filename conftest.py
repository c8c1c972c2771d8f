"""Test-session settings shared by every test: headless plots, no network, no stray MLflow store."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests must never write an mlflow.db into the repo: a test that needs MLflow sets its own
# temporary tracking URI; this default points anything that forgets at a throwaway folder.
os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///" + os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"bankml-test-mlflow-{os.getpid()}.db"))
