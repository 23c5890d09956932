"""Where the chart fonts are: Debian's font packages, or the pip packages of the `fonts` extra.

matplotlib's own font (DejaVu Sans) has no emoji and no Chinese, Japanese or Korean
characters, so a chart title with them falls back, glyph by glyph, on the fonts found
here (bot/presentation/chart.py). Each role (CJK, emoji, symbols, text) names the places its
font may be installed, and the first one found is used: the Docker image installs
Debian's packages (`fonts-noto-cjk`, `fonts-noto-core`, `fonts-symbola`), a developer or
the tests may have the pip packages (`pip install 'tunebot[fonts]'`). Without any of
them a character no font can draw is left out of the title, never drawn as a box.

Debian's `fonts-noto-color-emoji` is a bitmap font (CBDT), which matplotlib refuses
("Non-scalable fonts are not supported"): emoji come from Symbola, an outline font.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

__all__ = ["EXTRA_FONTS", "FontPlace", "font_files"]

FontPlace = tuple[str, str]
"""(where, file name): `where` is an absolute folder, or the name of a Python package holding the file."""

_NOTO = "/usr/share/fonts/truetype/noto"

EXTRA_FONTS: tuple[tuple[FontPlace, ...], ...] = (
    (  # Chinese, Japanese, Korean
        ("manimgx_fonts_cjk", "NotoSansCJK-VF.otf.ttc"),
        ("/usr/share/fonts/opentype/noto", "NotoSansCJK-Regular.ttc"),  # fonts-noto-cjk
    ),
    (  # emoji
        ("manimgx_fonts", "NotoEmoji[wght].ttf"),
        ("/usr/share/fonts/truetype/ancient-scripts", "Symbola_hint.ttf"),  # fonts-symbola
    ),
    (  # symbols
        ("manimgx_fonts", "NotoSansSymbols[wght].ttf"),
        (_NOTO, "NotoSansSymbols-Regular.ttf"),  # fonts-noto-core
    ),
    ((_NOTO, "NotoSansSymbols2-Regular.ttf"),),  # fonts-noto-core: arrows, shapes, dingbats
    (  # Latin, Greek, Cyrillic beyond DejaVu Sans
        ("manimgx_fonts", "NotoSans[wght].ttf"),
        (_NOTO, "NotoSans-Regular.ttf"),  # fonts-noto-core
    ),
)


def font_files(roles: Iterable[Iterable[FontPlace]]) -> tuple[Path, ...]:
    """For each role, the first of its font files that exists; roles with none are skipped."""
    found: list[Path] = []
    for places in roles:
        for where, name in places:
            folder = _folder(where)
            if folder is not None and (folder / name).is_file():
                found.append(folder / name)
                break
    return tuple(dict.fromkeys(found))


def _folder(where: str) -> Path | None:
    if Path(where).is_absolute():
        return Path(where)
    try:
        spec = importlib.util.find_spec(where)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent
