"""The font bankml draws Chinese with: one that comes with the install, found automatically.

Every bankml plot drawn with ``lang="zh"`` goes through :func:`font_context`, so Chinese
labels render on a machine without any CJK system font (a branch PC, a CI container).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import warnings
from pathlib import Path

__all__ = ["cjk_font_family", "font_context"]

#: Fonts installed with bankml (setup.cfg install_requires): (import name, file inside it).
#: WenQuanYi Micro Hei: a Simplified-Chinese sans-serif with Latin glyphs, 5 MB, free
#: licence (Apache 2.0 / GPLv3 with font exception); the wheel that carries it is 2.3 MB.
_BUNDLED = (("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"),)

#: System fonts tried when no bundled font is installed (e.g. an install without deps).
_SYSTEM = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
           "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC")


def _bundled_files():
    for package, rel in _BUNDLED:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            path = Path(root) / rel
            if path.is_file():
                yield path


@functools.lru_cache(maxsize=None)
def cjk_font_family(extra=()) -> str | None:
    """Family name of a font that draws Chinese, registered with matplotlib; None if none.

    The bundled font comes first (the same picture on every machine), then the names in
    ``extra`` and a few common system fonts that matplotlib already knows.
    """
    from matplotlib import font_manager

    for path in _bundled_files():
        try:
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
        except (OSError, RuntimeError, ValueError):  # an unreadable file: try the next
            continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in (*extra, *_SYSTEM):
        if name in known:
            return name
    return None


def font_context(lang, extra=()):
    """A matplotlib ``rc_context`` for drawing in ``lang``: for "zh", the CJK font first.

    Text made inside the context keeps the font (matplotlib stores ``font.family`` on each
    text when it is created), so the figure may be saved after the context has closed.
    Without any CJK font a warning says how to get one instead of drawing boxes silently.
    """
    if lang != "zh":
        return contextlib.nullcontext()
    import matplotlib

    family = cjk_font_family(tuple(extra))
    if family is None:
        warnings.warn("bankml: no CJK font found, Chinese labels will show as boxes; install "
                      "bankml with its dependencies (pip install paperang-p2-fonts-cjk)",
                      UserWarning, stacklevel=2)
        return contextlib.nullcontext()
    # the CJK font first; the default sans-serif after it for any glyph it lacks
    return matplotlib.rc_context({"font.family": [family, "sans-serif"]})
