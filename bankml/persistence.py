"""Saving and loading trained models: joblib file, SHA-256 sidecar, model card.

`load_model` verifies the checksum *before* unpickling, because unpickling runs code; every
file is written to a temporary name in the same folder and renamed into place (atomic).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import io
import os
import tempfile
from pathlib import Path

import joblib

from ._version import __version__
from .errors import ChecksumError, ModelFileError, PublishError

__all__ = ["save_model", "load_model", "move_model", "sha256_file", "model_card",
           "check_output_dir"]

_CHUNK = 1 << 20


def sha256_file(path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _card_path(path: Path, lang: str | None = None) -> Path:
    # the first card is <stem>.md (as before); a card in another language <stem>_<lang>.md
    return path.with_name(path.stem + (f"_{lang}" if lang else "") + ".md")


def _card_texts(card) -> dict:
    """``{None: text}`` for one card, ``{None: first, lang: text, ...}`` for a mapping."""
    if card is None:
        return {}
    if isinstance(card, dict):
        items = list(card.items())
        return {None if i == 0 else lang: text for i, (lang, text) in enumerate(items)}
    return {None: card}


def check_output_dir(path) -> Path:
    """Make sure outputs can be published into folder ``path``; return it as an absolute path.

    Call it before the work, so a run fails in its first second rather than after an hour.
    The folder (and its parents) is created if missing, and a probe file is written and
    removed: permission bits alone do not tell (root, read-only mounts, full disks).

    Raises
    ------
    PublishError
        Naming the path: a component of it is a file, it cannot be created, or it cannot be
        written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(d / "models") == d / "models"
    True
    >>> (d / "file").write_text("x")
    1
    >>> check_output_dir(d / "file" / "models")
    Traceback (most recent call last):
    ...
    bankml.errors.PublishError: cannot publish to .../file/models: .../file is a file, not a folder
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise PublishError(f"an output folder must be a path, got {path!r}")
    folder = Path(os.path.abspath(path))
    for part in [folder, *folder.parents]:
        if part.exists() and not part.is_dir():
            raise PublishError(f"cannot publish to {folder}: {part} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".bankml-write-check-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PublishError(f"cannot publish to {folder}: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise PublishError(f"cannot publish to {str(path)!r}: {exc}") from None
    return folder


def _atomic_write(path: Path, write) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(model, path, card=None) -> dict:
    """Save ``model`` with joblib, a SHA-256 sidecar and optionally a Markdown model card.

    Parameters
    ----------
    model : object
        Any picklable object (typically a fitted scikit-learn pipeline).
    path : str or Path
        Target file, e.g. ``models/wm_propensity.joblib``; the folder is created.
        The checksum goes to ``<path>.sha256`` and the card to ``<stem>.md`` beside it.
    card : str or dict, optional
        The model card text (Markdown), e.g. from :func:`model_card`; or one card per
        language, ``{"en": ..., "zh": ...}``: the first goes to ``<stem>.md``, the others
        to ``<stem>_<lang>.md``.

    Returns
    -------
    dict
        ``{"model": Path, "checksum": Path, "card": Path or None, "sha256": str}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> info = save_model({"w": [1, 2]}, d / "m.joblib", card="# card")
    >>> load_model(d / "m.joblib")
    {'w': [1, 2]}
    >>> sorted(p.name for p in d.iterdir())
    ['m.joblib', 'm.joblib.sha256', 'm.md']
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, lambda fh: joblib.dump(model, fh))
    except OSError as exc:
        # e.g. a file where a folder of the path should be: name the path, not errno's words
        raise ModelFileError(f"cannot save a model to {path}: {exc.strerror or exc}"
                             + (f" ({exc.filename})" if exc.filename else "")) from None
    digest = sha256_file(path)
    # sha256sum's format, so `sha256sum -c` can check the file by hand too.
    line = f"{digest}  {path.name}\n".encode()
    _atomic_write(_checksum_path(path), lambda fh: fh.write(line))
    card_file = None
    for lang, text in _card_texts(card).items():
        file = _card_path(path, lang)
        card_file = card_file or file
        _atomic_write(file, lambda fh, text=text: fh.write(str(text).encode("utf-8")))
    return {"model": path, "checksum": _checksum_path(path), "card": card_file, "sha256": digest}


def move_model(path, folder) -> Path:
    """Move a saved model, its checksum and its card into ``folder``; return the new path.

    Each move is an atomic rename. The checksum moves before the model, so a reader in between
    sees a mismatch and :func:`load_model` refuses the file; never a wrong model.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = save_model([1], d / "staging" / "m.joblib", card="# card")
    >>> load_model(move_model(d / "staging" / "m.joblib", d))
    [1]
    >>> sorted(p.name for p in d.iterdir())
    ['m.joblib', 'm.joblib.sha256', 'm.md', 'staging']
    """
    path, folder = Path(path), Path(folder)
    target = folder / path.name
    cards = [(_card_path(path, lang), _card_path(target, lang)) for lang in (None, "zh", "en")]
    for src, dst in (*cards, (_checksum_path(path), _checksum_path(target)), (path, target)):
        if src.exists():
            os.replace(src, dst)
    return target


def load_model(path):
    """Load a model saved by :func:`save_model`, refusing it unless its checksum matches.

    Raises
    ------
    ChecksumError
        If the sidecar is missing or malformed, or the file's SHA-256 differs. The file is
        never unpickled in that case.
    ModelFileError
        If there is no file at ``path`` (nothing, or a folder), or its bytes, checksum and
        all, are not a model (e.g. truncated before the checksum was recomputed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.joblib"
    >>> _ = save_model([1, 2, 3], p)
    >>> with open(p, "ab") as fh:
    ...     _ = fh.write(b"tampered")
    >>> load_model(p)
    Traceback (most recent call last):
    ...
    bankml.errors.ChecksumError: ...does not match its recorded SHA-256...
    """
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "nothing"
        raise ModelFileError(f"no model file at {path}: there is {what} there")
    side = _checksum_path(path)
    if not side.is_file():
        raise ChecksumError(f"refusing to load {path}: its checksum file {side.name} is missing")
    parts = side.read_text(encoding="utf-8").split()
    expected = parts[0].lower() if parts else ""
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise ChecksumError(f"refusing to load {path}: {side.name} holds no SHA-256 digest")
    # hash and unpickle the same bytes, read once: a file swapped after the check is not loaded
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(actual, expected):
        raise ChecksumError(f"refusing to load {path}: the file does not match its recorded "
                            f"SHA-256 (expected {expected[:12]}..., got {actual[:12]}...); "
                            "it may be corrupt or tampered with")
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 -- whatever unpickling raises, the file is the cause
        # the checksum only proves the file is the one recorded, not that a model was recorded
        raise ModelFileError(f"cannot load {path}: it is not a readable model "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from exc


def _md_table(rows: list[dict]) -> str:
    if not rows:
        return "_none_\n"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        # a metric a model does not have (NaN) reads as "-", not "nan"
        cells = [("-" if v != v else f"{v:.4f}") if isinstance(v, float) else str(v)
                 for v in r.values()]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def model_card(title, *, data, metrics, rules=None, notes=None, date=None, lang="en") -> str:
    """A Markdown model card: data, metrics vs baseline, top rules, date, bankml version.

    Parameters
    ----------
    title : str
    data : dict
        What the model was trained on (source, sizes, positive rate; never customer rows).
    metrics : list of dict
        One row per model, e.g. ``{"model": "tree", "auc": 0.8, ...}``.
    rules : str, optional
        The top rules as Markdown.
    notes : str, optional
    date : datetime, optional
        Defaults to now (UTC).
    lang : {"en", "zh"}
        Language of the headings (the caller gives ``data``, ``metrics`` and ``rules`` in
        the same language).

    Examples
    --------
    >>> card = model_card("WM propensity", data={"rows": 10},
    ...                   metrics=[{"model": "tree", "auc": 0.81}])
    >>> "| tree | 0.8100 |" in card and "bankml" in card
    True
    """
    from .labels import check_lang, term

    check_lang(lang)

    def t(key):
        return term(f"card_{key}", lang)
    date = date or _dt.datetime.now(_dt.timezone.utc)
    colon = "：" if lang == "zh" else ": "
    lines = [f"# {t('title')}{colon}{title}", "",
             f"- {t('date')}{colon}{date.strftime('%Y-%m-%d %H:%M UTC')}",
             f"- {t('version')}{colon}{__version__}", "", f"## {t('data')}", ""]
    lines += [f"- {k}{colon}{v}" for k, v in data.items()]
    lines += ["", f"## {t('metrics')}", "", _md_table(list(metrics))]
    if rules:
        lines += [f"## {t('rules')}", "", rules.rstrip(), ""]
    if notes:
        lines += [f"## {t('notes')}", "", notes.rstrip(), ""]
    return "\n".join(lines)
