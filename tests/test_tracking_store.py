"""The MLflow store: URIs checked before use, concurrent first runs, runs of dead processes."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from mlflow import MlflowClient

import bankml
from bankml import tracking
from bankml.errors import TrackingError
from bankml.tracking import RunTracker, prepare_store

ROOT = Path(bankml.__file__).resolve().parents[1]


def _env(tmp_path):
    """A child interpreter importing this checkout's bankml, with no inherited store."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env["MLFLOW_TRACKING_URI"] = "sqlite:///" + str(tmp_path / "unused.db")
    return env


@pytest.mark.parametrize("uri, match", [
    ("bogus://x", r"unknown scheme 'bogus'.*sqlite://, http://"),
    ("file:///tmp/mlruns", "use an SQLite store"),
    ("mlflow.db", "no scheme"),
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
])
def test_unusable_uri_is_refused_naming_it(uri, match):
    with pytest.raises(TrackingError, match=match) as err:
        prepare_store(uri)
    assert repr(uri) in str(err.value)


def test_sqlite_in_a_missing_folder_creates_nothing(tmp_path):
    # issue 12 item 8: sqlite:////nonexistent/x.db created a folder at /
    missing = tmp_path / "nonexistent"
    with pytest.raises(TrackingError, match="does not exist; create it first"):
        prepare_store(f"sqlite:///{missing}/x.db")
    assert not missing.exists()
    with pytest.raises(TrackingError, match="does not exist"):
        RunTracker("e", tracking_uri=f"sqlite:///{missing}/x.db").__enter__()
    assert not missing.exists()


def test_sqlite_path_that_is_not_a_database_or_folder(tmp_path):
    (tmp_path / "customers.csv").write_text("a,b\n1,2\n")
    with pytest.raises(TrackingError, match="is not an SQLite database"):
        prepare_store(f"sqlite:///{tmp_path}/customers.csv")
    assert (tmp_path / "customers.csv").read_text() == "a,b\n1,2\n"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(TrackingError, match="is not a folder"):
        prepare_store(f"sqlite:///{tmp_path}/afile/x.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(TrackingError, match="is not a file"):
        prepare_store(f"sqlite:///{tmp_path}/dir.db")


def test_password_is_not_shown(tmp_path):
    with pytest.raises(TrackingError) as err:
        prepare_store("http://alice:s3cret@127.0.0.1:9")
    assert "s3cret" not in str(err.value) and "alice:***@" in str(err.value)


def test_refused_connection_fails_fast_and_bounds_mlflow_retries(monkeypatch):
    for key in tracking._HTTP_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "7")  # the user's own setting wins
    with pytest.raises(TrackingError, match=r"no MLflow server answers at 127\.0\.0\.1:9"):
        prepare_store("http://127.0.0.1:9")
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "7"


def test_server_that_accepts_but_never_answers_times_out(monkeypatch):
    # a black hole: the TCP connection is accepted, no HTTP answer ever comes
    monkeypatch.setattr(tracking, "PROBE_TIMEOUT", 0.5)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    held = []
    threading.Thread(target=lambda: held.append(srv.accept()), daemon=True).start()
    try:
        with pytest.raises(TrackingError, match="waited at most 0.5 s"):
            prepare_store(f"http://127.0.0.1:{srv.getsockname()[1]}")
    finally:
        srv.close()


def test_prepare_store_is_idempotent_and_keeps_runs(tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    assert prepare_store(uri) == uri
    with RunTracker("e", tracking_uri=uri) as rt:
        rt.log_metrics({"x": 1.0})
    assert prepare_store(uri) == uri
    assert MlflowClient(uri).get_run(rt.run_id).data.metrics == {"x": 1.0}


_RACE = textwrap.dedent("""
    import sys
    from bankml.tracking import RunTracker
    with RunTracker("race", tracking_uri=sys.argv[1]) as rt:
        rt.log_metrics({"x": 1.0})
    print(rt.run_id)
""")


@pytest.mark.parametrize("attempt", range(2))
def test_two_first_runs_at_once_on_a_new_store_both_finish(tmp_path, attempt):
    # issue 12 item 4: one of them died in alembic ("duplicate column name: step")
    uri = f"sqlite:///{tmp_path}/new.db"
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, uri], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(tmp_path))
             for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    run_ids = {o[0].strip() for o in outs}
    client = MlflowClient(uri)
    assert len(run_ids) == 2
    assert {client.get_run(r).info.status for r in run_ids} == {"FINISHED"}


_HANG = textwrap.dedent("""
    import sys, time
    from bankml.tracking import RunTracker
    with RunTracker("crash", tracking_uri=sys.argv[1]) as rt:
        print(rt.run_id, flush=True)
        time.sleep(120)
""")


def test_run_of_a_killed_process_is_marked_failed_by_the_next_run(tmp_path):
    # issue 12 item 5: kill -9 mid-run left the run RUNNING forever
    uri = f"sqlite:///{tmp_path}/m.db"

    def start():
        p = subprocess.Popen([sys.executable, "-c", _HANG, uri], stdout=subprocess.PIPE,
                             text=True, env=_env(tmp_path))
        return p, p.stdout.readline().strip()
    killed, dead_run = start()
    alive, live_run = start()
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        client = MlflowClient(uri)
        assert client.get_run(dead_run).info.status == "RUNNING"
        assert client.get_run(dead_run).data.tags["bankml.pid"] == str(killed.pid)
        with RunTracker("crash", tracking_uri=uri) as rt:
            pass
        assert rt.recovered == [dead_run]
        dead = client.get_run(dead_run)
        assert dead.info.status == "FAILED"
        assert dead.data.tags["bankml.recovered"] == "dead process"
        # a live process's run is left alone
        assert client.get_run(live_run).info.status == "RUNNING"
        assert client.get_run(rt.run_id).info.status == "FINISHED"
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_runs_without_bankml_tags_or_of_other_hosts_are_left_alone(tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    prepare_store(uri)
    client = MlflowClient(uri)
    exp = client.create_experiment("e")
    foreign = client.create_run(exp).info.run_id
    elsewhere = client.create_run(exp, tags={"bankml.pid": "999999999",
                                             "bankml.host": "another-host"}).info.run_id
    # same hostname, another container (pid namespace): its pids mean nothing here
    container = client.create_run(exp, tags={"bankml.pid": "999999999",
                                             "bankml.host": socket.gethostname(),
                                             "bankml.pidns": "pid:[1]"}).info.run_id
    with RunTracker("e", tracking_uri=uri) as rt:
        pass
    assert rt.recovered == []
    runs = (foreign, elsewhere, container)
    assert {client.get_run(r).info.status for r in runs} == {"RUNNING"}


def test_deleted_experiment_is_a_clear_error(tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    prepare_store(uri)
    client = MlflowClient(uri)
    client.delete_experiment(client.create_experiment("gone"))
    with pytest.raises(TrackingError, match="experiment 'gone' was deleted"):
        RunTracker("gone", tracking_uri=uri).__enter__()


def test_database_store_without_its_driver_is_named_without_the_password():
    # something listens (so the probe passes) but the Python driver is missing
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    uri = f"postgresql://bob:hunter2@127.0.0.1:{srv.getsockname()[1]}/db"
    try:
        with pytest.raises(TrackingError) as err:
            with RunTracker("e", tracking_uri=uri):
                pass
    finally:
        srv.close()
    text = str(err.value)
    assert "hunter2" not in text and "bob:***@" in text
    assert "is not installed" in text or "cannot" in text


def test_any_http_answer_counts_as_a_server():
    # an MLflow server behind a proxy may not serve /health; an HTTP answer is enough
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(404)

        def log_message(self, *args):
            pass
    srv = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{srv.server_address[1]}/mlflow"
        assert prepare_store(uri) == uri
    finally:
        srv.shutdown()
        srv.server_close()


def test_lock_file_refused_only_matters_for_a_new_store(tmp_path, monkeypatch):
    # a read-only folder holding an existing store (browsing it with bankml ui) still works
    import builtins

    uri = f"sqlite:///{tmp_path}/m.db"
    prepare_store(uri)

    def no_lock(path, *a, **k):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *a, **k)
    monkeypatch.setattr(tracking, "open", no_lock, raising=False)
    assert prepare_store(uri) == uri
    with pytest.raises(TrackingError, match="cannot create the lock file .*new.db.lock"):
        prepare_store(f"sqlite:///{tmp_path}/new.db")
