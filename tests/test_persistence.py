"""Model files: round trip, checksum verified before unpickling, atomic writes, model card."""

import os

import joblib
import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from bankml import persistence
from bankml.errors import BankmlError, ChecksumError, ModelFileError
from bankml.persistence import load_model, model_card, save_model, sha256_file


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = rng.random((200, 3))
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, X[:, 0] > 0.5), X


def test_round_trip_predicts_the_same(tmp_path, fitted):
    model, X = fitted
    info = save_model(model, tmp_path / "sub" / "m.joblib", card="# Card\n")
    assert info["sha256"] == sha256_file(info["model"])
    assert (tmp_path / "sub" / "m.joblib.sha256").read_text().split() == [info["sha256"], "m.joblib"]
    assert (tmp_path / "sub" / "m.md").read_text() == "# Card\n"
    again = load_model(tmp_path / "sub" / "m.joblib")
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


@pytest.fixture
def no_unpickle(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("joblib.load called on an unverified file")
    monkeypatch.setattr(persistence.joblib, "load", boom)


@pytest.mark.parametrize("damage", ["tamper", "no_sidecar", "bad_sidecar", "other_digest"])
def test_refuses_unverified_file_without_unpickling(tmp_path, fitted, damage, no_unpickle):
    path = tmp_path / "m.joblib"
    save_model(fitted[0], path)
    side = tmp_path / "m.joblib.sha256"
    if damage == "tamper":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        match = "does not match"
    elif damage == "no_sidecar":
        side.unlink()
        match = "checksum file m.joblib.sha256 is missing"
    elif damage == "bad_sidecar":
        side.write_text("not-a-digest  m.joblib\n")
        match = "holds no SHA-256"
    else:
        side.write_text("0" * 64 + "  m.joblib\n")
        match = "does not match"
    with pytest.raises(ChecksumError, match=match):
        load_model(path)


def test_missing_file(tmp_path):
    # hostile M04/M05: a bankml error naming the path (was a bare FileNotFoundError)
    with pytest.raises(ModelFileError, match="none.joblib: there is nothing there"):
        load_model(tmp_path / "none.joblib")
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelFileError, match="models: there is a folder there"):
        load_model(tmp_path / "models")


def test_truncated_file_with_recomputed_checksum_is_a_clear_error(tmp_path):
    # hostile M03: the checksum matches (recomputed) but the bytes are no model: EOFError before
    path = tmp_path / "m.joblib"
    save_model({"w": list(range(100))}, path)
    path.write_bytes(path.read_bytes()[:20])
    (tmp_path / "m.joblib.sha256").write_text(sha256_file(path) + "  m.joblib\n")
    with pytest.raises(ModelFileError, match=r"m\.joblib: it is not a readable model"):
        load_model(path)


def test_save_into_a_path_through_a_file_names_the_path(tmp_path):
    # hostile M06: a file where a folder should be was a bare FileExistsError
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(ModelFileError, match="blocker") as info:
        save_model([1], tmp_path / "blocker" / "m.joblib")
    assert isinstance(info.value, (BankmlError, OSError))
    assert (tmp_path / "blocker").read_text() == "x"


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, fitted, monkeypatch):
    path = tmp_path / "m.joblib"
    save_model([1, 2], path)
    before = path.read_bytes()

    def half_write(obj, fh):
        fh.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(persistence.joblib, "dump", half_write)
    with pytest.raises(OSError, match="disk full"):
        save_model(fitted[0], path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.joblib", "m.joblib.sha256"]
    monkeypatch.undo()
    assert load_model(path) == [1, 2]


def test_model_card_content():
    card = model_card("WM", data={"source": "synthetic n=100"},
                      metrics=[{"model": "tree", "auc": 0.8}, {"model": "stars", "auc": 0.7}],
                      rules="1. IF a THEN b", notes="n")
    for part in ["# Model card: WM", "bankml version", "source: synthetic n=100",
                 "| tree | 0.8000 |", "| stars | 0.7000 |", "## Top rules", "IF a THEN b"]:
        assert part in card


def test_joblib_file_is_plain_joblib(tmp_path):
    save_model({"a": 1}, tmp_path / "m.joblib")
    assert joblib.load(tmp_path / "m.joblib") == {"a": 1}


def test_file_swapped_after_the_check_is_not_loaded(tmp_path, fitted, monkeypatch):
    # the bytes unpickled are the bytes that were hashed: replacing the file between the
    # checksum check and the load must not get the replacement unpickled
    model, X = fitted
    path = tmp_path / "m.joblib"
    save_model(model, path)
    real_compare = persistence.hmac.compare_digest

    def compare_then_swap(a, b):
        ok = real_compare(a, b)
        joblib.dump({"swapped": True}, path)
        return ok
    monkeypatch.setattr(persistence.hmac, "compare_digest", compare_then_swap)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_model_card_shows_missing_metric_as_dash():
    card = model_card("WM", data={}, metrics=[{"model": "tree", "auc": 0.8, "rule_precision": 0.5},
                                              {"model": "stars", "auc": 0.7,
                                               "rule_precision": float("nan")}])
    assert "| stars | 0.7000 | - |" in card and "nan" not in card


def test_output_dir_is_created_and_returned_absolute(tmp_path, monkeypatch):
    from bankml.persistence import check_output_dir

    monkeypatch.chdir(tmp_path)
    out = check_output_dir("models/sub")
    assert out == tmp_path / "models" / "sub" and out.is_dir()
    assert list(out.iterdir()) == []  # the write probe is gone
    assert check_output_dir(out) == out  # and again, now that it exists


@pytest.mark.parametrize("make", ["file", "file_parent", "empty", "none", "nul"])
def test_output_dir_that_cannot_hold_outputs_fails_early(tmp_path, make):
    # issue 12 item 8: `models` being a file was only noticed after the whole run
    from bankml.errors import PublishError
    from bankml.persistence import check_output_dir

    (tmp_path / "models").write_text("not a folder")
    path = {"file": tmp_path / "models", "file_parent": tmp_path / "models" / "deeper",
            "empty": "", "none": None, "nul": str(tmp_path / "a\0b")}[make]
    with pytest.raises(PublishError, match="cannot publish|must be a path"):
        check_output_dir(path)
    assert (tmp_path / "models").read_text() == "not a folder"


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root may write anywhere")
def test_output_dir_not_writable(tmp_path):
    from bankml.errors import PublishError
    from bankml.persistence import check_output_dir

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PublishError, match="Permission denied"):
            check_output_dir(ro / "models")
    finally:
        ro.chmod(0o700)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_output_dir_on_a_filesystem_nobody_may_write(tmp_path):
    # /proc refuses new folders even to root, where permission bits would say yes
    from bankml.errors import PublishError
    from bankml.persistence import check_output_dir

    with pytest.raises(PublishError, match="cannot publish to /proc/bankml-models"):
        check_output_dir("/proc/bankml-models")
