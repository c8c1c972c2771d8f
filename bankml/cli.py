"""The `bankml` command line: run the main job, score a table, open the MLflow UI, describe
the schema.

Every failure ends the same way: one ``bankml: error: <message>`` line on stderr and exit
status 2; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import traceback

from ._version import __version__
from ._stop import Terminated, request_stop
from ._stop import reset as reset_stop
from .errors import BankmlError, ConfigError

#: Exit status of every failure (argparse's own for a bad command line).
EXIT_ERROR = 2
#: Longest message printed: an error quoting a huge input must not flood the terminal.
MAX_MESSAGE = 500
_DEBUG_HINT = "(run with --debug for the traceback)"


def _cmd_schema(args) -> int:
    from .schema import describe_schema

    import pandas as pd

    from .labels import term

    lang = args.lang
    cols = ["label", "kind", "unit", "required", "range"]
    table = describe_schema(lang)[cols].copy()
    # a person reads this: yes/no, not True/False, and headings in the chosen language
    table["required"] = table["required"].map(
        lambda r: term("rule_yes" if r else "rule_no", lang))
    table = table.rename(columns={c: term(f"schema_{c}", lang) for c in cols})
    table.index.name = term("schema_column", lang)
    with pd.option_context("display.unicode.east_asian_width", lang == "zh"):
        print(table.to_string())
    return 0


def _cmd_run(args) -> int:
    from . import pipeline
    from .tracking import prepare_store

    # before any work: a wrong URI or a dead server fails now, in seconds, not after the run
    uri = prepare_store(args.tracking_uri)
    pipeline.main(args.config, data=args.data, tracking_uri=uri, lang=args.lang)
    return 0


def _cmd_score(args) -> int:
    from .pipeline import score
    from .tracking import prepare_store

    # before any work: a wrong URI or a dead server fails now, not after reading the data
    uri = prepare_store(args.tracking_uri)
    score(args.config, args.model, data=args.data, out=args.out, lang=args.lang,
          tracking_uri=uri, batch_rows=args.batch_rows, verbose=True)
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _ui_command(args) -> list[str]:
    """The ``mlflow ui`` command line for the store ``bankml run`` writes to, bound to localhost."""
    from .tracking import _artifact_root, _shown, resolve_tracking_uri

    uri = resolve_tracking_uri(args.tracking_uri)
    if uri.split(":", 1)[0].lower() in ("http", "https", "databricks"):
        # A tracking server already has its own UI; `mlflow ui` needs the store behind it.
        raise ConfigError(f"bankml ui serves a local SQLite store (sqlite:///...); {_shown(uri)!r} "
                          "is a tracking server: open it in a browser instead")
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
           "--host", "127.0.0.1", "--port", str(args.port)]
    root = _artifact_root(uri)
    if root:
        cmd += ["--default-artifact-root", root]
    return cmd


def _cmd_ui(args) -> int:
    import subprocess

    from .tracking import prepare_store

    cmd = _ui_command(args)
    store = prepare_store(cmd[cmd.index("--backend-store-uri") + 1])
    print(f"bankml: MLflow UI on http://127.0.0.1:{args.port} for {store} (Ctrl-C to stop)")
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad command line reported like every other failure: one line."""

    def error(self, message):
        _print_error(f"{message} (see {self.prog} --help)")
        sys.exit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bankml",
        description="Bank customer-value analytics: star baseline, information-gain trees, "
                    "IF-THEN rules, cross-sell rules, segments and outliers, tracked in MLflow.")
    parser.add_argument("--version", action="version", version=f"bankml {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="on failure, print the traceback after the error line")
    # on each subcommand too (`bankml run CFG --debug`); SUPPRESS keeps a top-level --debug
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on failure, print the traceback after the error line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", parents=[common],
                         help="run the pipeline described by a YAML config")
    run.add_argument("config", help="path of the pipeline config (e.g. configs/wealth_propensity.yaml)")
    run.add_argument("--data", help="CSV or Parquet customer table to use instead of the config's source")
    run.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or "
                                            "sqlite:///mlflow.db in the working directory)")
    run.add_argument("--lang", choices=("zh", "en"), default="en",
                     help="language of the printed summary (default en)")
    run.set_defaults(func=_cmd_run)

    score = sub.add_parser("score", parents=[common],
                           help="score every customer of a table with a registered model")
    score.add_argument("config", help="the pipeline config the model was trained with (its "
                                      "data.columns, data.encoding, stars.policy)")
    score.add_argument("--model", required=True,
                       help="models:/NAME@champion, models:/NAME/VERSION, runs:/RUN_ID/model "
                            "or a .joblib file saved by bankml (checksum verified)")
    score.add_argument("--data", help="CSV, Parquet file or folder of Parquet files (default: "
                                      "the config's data source)")
    score.add_argument("--out", default="scores.parquet",
                       help="Parquet file to write (default scores.parquet); written whole or "
                            "not at all")
    score.add_argument("--lang", choices=("zh", "en"), default="en",
                       help="language of the rule text (default en)")
    score.add_argument("--tracking-uri", help="MLflow store of the registry and of this run "
                                              "(default: as for `bankml run`)")
    score.add_argument("--batch-rows", type=_positive_int, default=None,
                       help="rows read and scored at a time (default: bankml.pipeline's "
                            "BATCH_ROWS); memory follows it")
    score.set_defaults(func=_cmd_score)

    ui = sub.add_parser("ui", parents=[common],
                        help="open the MLflow UI on the runs' store (localhost only)")
    ui.add_argument("--tracking-uri", help="MLflow store (default: as for `bankml run`)")
    ui.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default 5000)")
    ui.set_defaults(func=_cmd_ui)

    schema = sub.add_parser("schema", parents=[common], help="print the customer-table contract")
    schema.add_argument("--lang", choices=("zh", "en"), default="en")
    schema.set_defaults(func=_cmd_schema)
    return parser


def _one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, control characters made visible, cut to ``limit`` characters."""
    # line breaks become one space; other spacing is kept (a quoted value may hold two spaces)
    text = re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", str(text)).strip()
    # a hostile value quoted in a message must not drive the terminal (escape sequences)
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _print_error(message: str) -> None:
    print(f"bankml: error: {message}", file=sys.stderr, flush=True)


def error_message(exc: BaseException) -> str:
    """The one-line message for ``exc``: the user's words for errors a user can cause."""
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM)"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, BankmlError):
        return _one_line(exc) or type(exc).__name__
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename is not None:
            where = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 else "")
            return _one_line(f"{where}: {exc.strerror}")
        return _one_line(exc.strerror or exc or type(exc).__name__)
    if _is_yaml_error(exc):
        return _one_line(f"invalid YAML: {exc}")
    # a bug or an input bankml does not check yet: still one line, with the way to learn more
    return _one_line(f"{type(exc).__name__}: {exc}", MAX_MESSAGE - len(_DEBUG_HINT) - 1) \
        + " " + _DEBUG_HINT


def _is_yaml_error(exc) -> bool:
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


def main(argv=None) -> int:
    """The ``bankml`` command; returns the exit status (0, or 2 after one error line)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    old_term = None
    if threading.current_thread() is threading.main_thread():
        reset_stop()
        old_term = signal.signal(signal.SIGTERM, request_stop)
    try:
        return args.func(args)
    except BrokenPipeError:
        # `bankml schema | head`: the reader stopped early, which is not an error; point
        # stdout at devnull so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, KeyboardInterrupt) and "bankml.tracking" in sys.modules:
            # an interrupt can land where no RunTracker ends the run (inside MLflow's own
            # end_run): never leave it RUNNING
            sys.modules["bankml.tracking"].fail_active_run()
        if args.debug:
            traceback.print_exception(exc, file=sys.stderr)
        _print_error(error_message(exc))
        return EXIT_ERROR
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
            reset_stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
