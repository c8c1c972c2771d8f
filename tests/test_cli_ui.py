"""`bankml ui`: the MLflow UI on the same store as `bankml run`, bound to localhost only."""

import subprocess

from bankml import cli


def _cmd(argv):
    return cli._ui_command(cli.build_parser().parse_args(argv))


def test_ui_uses_default_store_in_cwd_and_localhost(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cmd = _cmd(["ui"])
    assert cmd[1:4] == ["-m", "mlflow", "ui"]
    assert cmd[cmd.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path}/mlflow.db"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "5000"
    assert cmd[cmd.index("--default-artifact-root") + 1] == (tmp_path / "mlartifacts").as_uri()


def test_ui_follows_env_and_flag(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////data/env.db")
    assert "sqlite:////data/env.db" in _cmd(["ui", "--port", "5055"])
    cmd = _cmd(["ui", "--tracking-uri", "sqlite:////data/flag.db"])
    assert "sqlite:////data/flag.db" in cmd
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"


def test_ui_refuses_a_tracking_server(monkeypatch, capsys):
    called = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: called.append(cmd) or 0)
    assert cli.main(["ui", "--tracking-uri", "http://127.0.0.1:9999"]) == 2
    assert "is a tracking server" in capsys.readouterr().err and called == []
    assert cli.main(["ui", "--tracking-uri", "https://u:pw123@example.org"]) == 2
    assert "pw123" not in capsys.readouterr().err


def test_ui_command_runs_the_subprocess(monkeypatch, capsys, tmp_path):
    seen = {}
    monkeypatch.setattr(subprocess, "call", lambda cmd: seen.setdefault("cmd", cmd) and 0)
    assert cli.main(["ui", "--tracking-uri", f"sqlite:///{tmp_path}/x.db", "--port", "5123"]) == 0
    assert seen["cmd"][seen["cmd"].index("--port") + 1] == "5123"
    assert "http://127.0.0.1:5123" in capsys.readouterr().out


def test_help_lists_ui():
    assert "ui" in cli.build_parser().format_help()


def test_ui_refuses_an_unusable_store_in_one_line(monkeypatch, capsys, tmp_path):
    called = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: called.append(cmd) or 0)
    assert cli.main(["ui", "--tracking-uri", f"sqlite:///{tmp_path}/missing/x.db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and called == []
    assert not (tmp_path / "missing").exists()
