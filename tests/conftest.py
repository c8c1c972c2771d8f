"""Shared fixtures for the pipeline tests: one quickstart run in a temporary folder."""

import os

import pytest

from bankml._resources import config_path


@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory):
    """Run the quickstart pipeline once (5,000 synthetic customers) with its own MLflow store.

    Yields ``(result, workdir, tracking_uri)``; outputs, models and the store all live in
    ``workdir``.
    """
    from bankml.pipeline import run

    work = tmp_path_factory.mktemp("quickstart")
    uri = "sqlite:///" + str(work / "mlflow.db")
    here = os.getcwd()
    os.chdir(work)
    try:
        result = run(config_path("quickstart.yaml"), tracking_uri=uri, progress=False)
    finally:
        os.chdir(here)
    return result, work, uri
