"""The `bankml` command line: run the main job, open the MLflow UI, describe the schema."""

from __future__ import annotations

import argparse
import os
import sys

from ._version import __version__
from .errors import BankmlError, ConfigError


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

    pipeline.main(args.config, data=args.data, tracking_uri=args.tracking_uri, lang=args.lang)
    return 0


def _ui_command(args) -> list[str]:
    """The ``mlflow ui`` command line for the store ``bankml run`` writes to, bound to localhost."""
    from .tracking import _artifact_root, resolve_tracking_uri

    uri = resolve_tracking_uri(args.tracking_uri)
    if uri.split(":", 1)[0].lower() in ("http", "https", "databricks"):
        # A tracking server already has its own UI; `mlflow ui` needs the store behind it.
        raise ConfigError(f"bankml ui serves a local store (sqlite:///..., a folder); {uri!r} "
                          "is a tracking server: open it in a browser instead")
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
           "--host", "127.0.0.1", "--port", str(args.port)]
    root = _artifact_root(uri)
    if root:
        cmd += ["--default-artifact-root", root]
    return cmd


def _cmd_ui(args) -> int:
    import subprocess

    cmd = _ui_command(args)
    print(f"bankml: MLflow UI on http://127.0.0.1:{args.port} for {cmd[cmd.index('--backend-store-uri') + 1]}"
          " (Ctrl-C to stop)")
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bankml",
        description="Bank customer-value analytics: star baseline, information-gain trees, "
                    "IF-THEN rules, cross-sell rules, segments and outliers, tracked in MLflow.")
    parser.add_argument("--version", action="version", version=f"bankml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the pipeline described by a YAML config")
    run.add_argument("config", help="path of the pipeline config (e.g. configs/wealth_propensity.yaml)")
    run.add_argument("--data", help="CSV or Parquet customer table to use instead of the config's source")
    run.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or "
                                            "sqlite:///mlflow.db in the working directory)")
    run.add_argument("--lang", choices=("zh", "en"), default="en",
                     help="language of the printed summary (default en)")
    run.set_defaults(func=_cmd_run)

    ui = sub.add_parser("ui", help="open the MLflow UI on the runs' store (localhost only)")
    ui.add_argument("--tracking-uri", help="MLflow store (default: as for `bankml run`)")
    ui.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default 5000)")
    ui.set_defaults(func=_cmd_ui)

    schema = sub.add_parser("schema", help="print the customer-table contract")
    schema.add_argument("--lang", choices=("zh", "en"), default="en")
    schema.set_defaults(func=_cmd_schema)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except BankmlError as exc:
        print(f"bankml: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `bankml schema | head`: the reader stopped early, which is not an error; point
        # stdout at devnull so the interpreter's final flush does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
