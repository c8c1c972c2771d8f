"""The pipeline's user-facing words, in Chinese and English.

Words come from ``configs/labels.yaml`` (``pipeline_*`` terms).
"""

from __future__ import annotations

from ..labels import check_lang, term


def text(key: str, lang: str, **values) -> str:
    """The term ``key`` in ``lang`` with ``values`` filled in."""
    check_lang(lang)
    found = term(key, lang)
    return found.format(**values) if values else found
