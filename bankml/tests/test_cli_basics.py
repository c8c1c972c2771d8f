"""The console script answers --help and --version and prints the schema."""

import subprocess
import sys

from bankml import __version__
from bankml.cli import main


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "bankml.cli", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"bankml {__version__}"
    out = subprocess.run([sys.executable, "-m", "bankml.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "run" in out.stdout and "schema" in out.stdout


def test_schema_command(capsys):
    assert main(["schema", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "短期资产" in out and "取值范围" in out and "必需" in out
    assert "True" not in out and "False" not in out and "[0, ]" not in out
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert "required" in out and ">= 0" in out and "True" not in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().out


def test_console_script_is_declared():
    # `bankml --help` on the command line goes through this entry point, not `-m bankml.cli`.
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "bankml"]
    assert ep.value == "bankml.cli:main" and ep.load() is main


def test_schema_into_a_closed_pipe_is_quiet():
    # `bankml schema | head -1`: no BrokenPipeError traceback
    proc = subprocess.Popen([sys.executable, "-m", "bankml.cli", "schema"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err and "BrokenPipe" not in err


def test_python_dash_m_bankml_is_the_same_command():
    out = subprocess.run([sys.executable, "-m", "bankml", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"bankml {__version__}"
