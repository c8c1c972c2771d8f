"""The hostile-input harness (benchmarks/hostile.py) classifies outcomes correctly.

These tests run hand-made cases and a few cheap registry cases, never the whole registry.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from bankml.errors import ConfigError, DataError

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "hostile.py"


@pytest.fixture(scope="module")
def hostile():
    spec = importlib.util.spec_from_file_location("bankml_hostile_harness", _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up by name
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(spec.name, None)


def _case(h, fn, expect="error", **kw):
    return h.Case("X01", "test", "a hand-made case", expect, fn, **kw)


def test_answer_where_an_error_is_expected_is_silently_wrong(hostile):
    r = hostile.run_case(_case(hostile, lambda tmp: 42))
    assert r.outcome == hostile.WRONG


def test_oracle_rejection_is_silently_wrong(hostile):
    def fn(tmp):
        raise hostile.Wrong("SQL differs from model.predict on 3 of 10 rows")
    r = hostile.run_case(_case(hostile, fn, expect="answer"))
    assert r.outcome == hostile.WRONG
    assert "3 of 10" in r.detail


def test_bankml_error_naming_the_key_is_a_clear_error(hostile):
    def fn(tmp):
        raise ConfigError("config key 'tree.min_gain': must be finite, got inf")
    r = hostile.run_case(_case(hostile, fn, names=("min_gain",)))
    assert r.outcome == hostile.CLEAR


def test_invalid_parameter_error_is_a_clear_type_everywhere(hostile):
    # the errors rule (bankml/errors.py): a bad setting raises sklearn's InvalidParameterError
    from bankml.errors import InvalidParameterError

    def fn(tmp):
        raise InvalidParameterError("min_support must be in (0, 1], got 0")
    r = hostile.run_case(_case(hostile, fn, names=("min_support",)))
    assert r.outcome == hostile.CLEAR
    # a bare ValueError still needs the case's sklearn_ok
    r = hostile.run_case(_case(hostile, lambda tmp: int("x"), names=("int",)))
    assert r.outcome == hostile.RAW


@pytest.mark.parametrize("message, why", [
    ("something is wrong", "does not name"),
    ("column 'age': bad value at index 'CUST-00017'", "CUST-"),
    ("column 'age': " + "x" * 600, "chars"),
    ("column 'age': first part\n\nsecond paragraph", "paragraph"),
])
def test_bankml_error_with_a_poor_message_is_unclear(hostile, message, why):
    def fn(tmp):
        raise DataError(message)
    r = hostile.run_case(_case(hostile, fn, names=("age",), forbid=("CUST-",)))
    assert r.outcome == hostile.UNCLEAR
    assert why in r.detail


@pytest.mark.parametrize("exc", [KeyError("age"), AttributeError("'list' object has no attribute 'get'"),
                                 TypeError("unhashable type: 'dict'"), RecursionError("deep")])
def test_other_exception_types_are_raw_tracebacks(hostile, exc):
    def fn(tmp):
        raise exc
    r = hostile.run_case(_case(hostile, fn))
    assert r.outcome == hostile.RAW
    assert type(exc).__name__ in r.detail


def test_sklearn_value_error_counts_only_for_estimator_parameters(hostile):
    def fn(tmp):
        raise ValueError("max_depth must be >= 1, got -1")
    assert hostile.run_case(_case(hostile, fn, names=("max_depth",), sklearn_ok=True)).outcome == hostile.CLEAR
    assert hostile.run_case(_case(hostile, fn, names=("max_depth",))).outcome == hostile.RAW


def test_invalid_parameter_error_is_clear_without_sklearn_ok(hostile):
    # errors.py: a bad setting of a function (lang="fr", k=0) raises InvalidParameterError,
    # which is not a BankmlError; the harness must count it as the right, clear error
    from sklearn.utils._param_validation import InvalidParameterError

    def fn(tmp):
        raise InvalidParameterError("lang must be 'zh' or 'en', got 'fr'")
    assert hostile.run_case(_case(hostile, fn, names=("fr",))).outcome == hostile.CLEAR


def test_a_clear_error_of_another_class_than_the_rule_says_is_unclear(hostile):
    def fn(tmp):
        raise DataError("to_sql: dialect must be one of ['ansi'], got 'oracle'")
    r = hostile.run_case(_case(hostile, fn, names=("oracle",), raises="InvalidParameterError"))
    assert r.outcome == hostile.UNCLEAR
    assert "errors.py says InvalidParameterError" in r.detail


def test_a_case_over_its_time_limit_is_a_hang(hostile):
    def fn(tmp):
        time.sleep(5)
    t0 = time.perf_counter()
    r = hostile.run_case(_case(hostile, fn, timeout=1))
    assert r.outcome == hostile.HANG
    assert time.perf_counter() - t0 < 4


@pytest.mark.parametrize("rc, stderr, outcome", [
    (2, "bankml: error: config key 'tree.depth' is unknown\n", "clear error"),
    (1, "bankml: error: config key 'tree.depth' is unknown\n", "raw traceback"),
    (2, "Traceback (most recent call last):\n  File x\nKeyError: 'tree'\n", "raw traceback"),
    (2, "bankml: error: something failed\n", "unclear error"),
    (2, "bankml: error: tree.depth\nbankml: error: again\n", "unclear error"),
    (0, "", "silently wrong"),
])
def test_cli_outcomes(hostile, rc, stderr, outcome):
    c = _case(hostile, None, names=("tree.depth",))
    assert hostile.classify_cli(c, hostile.Cli(["run"], rc, "", stderr))[0] == outcome


def test_registry_is_large_enough_and_well_formed(hostile):
    ids = [c.id for c in hostile.REGISTRY]
    assert len(ids) == len(set(ids))
    issue = [i for i in ids if i.startswith("I")]
    assert len(issue) >= 35 and len(ids) - len(issue) >= 100
    assert {c.expect for c in hostile.REGISTRY} == {"error", "answer"}
    assert all(c.slow for c in hostile.REGISTRY if c.group in ("cli", "faults"))


def test_cheap_registry_cases_run_in_an_isolated_folder(hostile, tmp_path, monkeypatch):
    # two cheap cases of today's API: each gives one of the six outcomes, never crashes the
    # harness, and leaves the caller's working directory and environment as they were
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    for r in [hostile.run_case(c) for c in hostile.select(only="C01,R11")]:
        assert r.outcome in hostile.OUTCOMES
    assert Path.cwd() == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == before
