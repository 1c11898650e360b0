"""Find a font that draws Chinese, and the matplotlib settings that embed it.

PDF: matplotlib's Type 42 output wraps the font in a ``FontFile2`` stream, which the PDF
specification reserves for TrueType (``glyf``) outlines. Noto Sans CJK and Source Han Sans are
OpenType/CFF fonts; with ``pdf.fonttype = 42`` matplotlib still writes them there, and poppler
reports "Mismatch between font type and embedded font file". So a CFF font is embedded as
Type 3 (each glyph used becomes a small drawing procedure, with a ``ToUnicode`` map so the text
can be searched and copied), and a TrueType font (WenQuanYi Zen Hei, AR PL UMing) as Type 42.
Both are subsets: only the glyphs a page uses are embedded.

SVG: ``svg.fonttype = "path"`` draws every glyph as an outline, so the SVG looks the same in a
browser, Word or Inkscape on a machine without the font; the SVG stays plain XML, and matplotlib
writes each text string beside its outlines as a comment.
"""

from __future__ import annotations

import re
import struct
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Families tried in this order; the first one installed that draws 园区亿元 wins.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
)

#: Characters a font must draw to count as a Chinese font.
PROBE = "园区亿元"

#: What to install when no Chinese font is found (Debian/Ubuntu).
INSTALL_HINT = "apt-get install fonts-noto-cjk"

#: Family for Latin text and symbols when no Chinese font is used.
LATIN_FAMILY = "DejaVu Sans"

_CJK = re.compile(
    "[\u2e80-\u9fff\u3000-\u303f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)


class MissingFontWarning(UserWarning):
    """No Chinese font was found; labels fall back to English."""


@dataclass(frozen=True)
class CjkFont:
    """A font that draws Chinese.

    Attributes
    ----------
    family
        Family name as matplotlib knows it, e.g. ``"Noto Sans CJK SC"``.
    path
        Font file (``.ttc``, ``.otf`` or ``.ttf``).
    outlines
        ``"truetype"`` (``glyf``) or ``"cff"``; decides how PDFs embed it.
    """

    family: str
    path: Path
    outlines: str

    @property
    def pdf_fonttype(self) -> int:
        """42 (embedded font subset) for TrueType outlines, 3 (glyph procedures) for CFF."""
        return 42 if self.outlines == "truetype" else 3


def has_cjk(text: str) -> bool:
    """True when ``text`` holds a Chinese, Japanese or Korean character or full-width sign."""
    return bool(_CJK.search(str(text)))


def _sfnt_tag(path: Path, index: int = 0) -> bytes:
    """The sfnt version of a font file (or of face ``index`` of a collection)."""
    with open(path, "rb") as fh:
        head = fh.read(12 + 4 * (index + 1))
        if head[:4] == b"ttcf":
            (offset,) = struct.unpack(">I", head[12 + 4 * index : 16 + 4 * index])
            fh.seek(offset)
            return fh.read(4)
        return head[:4]


def _draws(path: Path, index: int, text: str) -> bool:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # an unreadable font file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in text)


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont | None:
    """Return the first installed font of :data:`CJK_FAMILIES` that draws Chinese, or ``None``.

    Regular weight is preferred. Fonts are looked up in matplotlib's font list
    (``matplotlib.font_manager.fontManager``).
    """
    from matplotlib import font_manager

    entries = font_manager.fontManager.ttflist
    for family in CJK_FAMILIES:
        faces = [f for f in entries if f.name == family and f.style == "normal"]
        faces.sort(key=lambda f: abs(_weight(f.weight) - 400))
        for face in faces:
            path = Path(face.fname)
            index = int(getattr(face, "index", 0) or 0)
            if not path.is_file() or not _draws(path, index, PROBE):
                continue
            tag = _sfnt_tag(path, index)
            return CjkFont(family, path, "cff" if tag == b"OTTO" else "truetype")
    return None


def _weight(value: str | int) -> int:
    if isinstance(value, int):
        return value
    return {"normal": 400, "regular": 400, "bold": 700, "light": 300}.get(str(value), 400)


@dataclass(frozen=True)
class FontSetup:
    """The font an export uses and the language its labels end up in.

    Attributes
    ----------
    font
        The Chinese font, or ``None`` when none is installed.
    lang
        ``"zh"`` or ``"en"``; ``"en"`` whenever ``font`` is ``None``.
    warning
        Why the labels fell back to English, or ``""``.
    """

    font: CjkFont | None
    lang: str
    warning: str = ""

    @property
    def can_draw_cjk(self) -> bool:
        """True when Chinese text can be drawn."""
        return self.font is not None

    def rc(self) -> dict[str, object]:
        """matplotlib settings for this font: family with fallback, PDF and SVG embedding."""
        families = [self.font.family, LATIN_FAMILY] if self.font else [LATIN_FAMILY]
        return {
            "font.family": families,
            "pdf.fonttype": self.font.pdf_fonttype if self.font else 42,
            "svg.fonttype": "path",
            "axes.unicode_minus": False,
        }

    def safe(self, text: object, fallback: object = "") -> str:
        """``text`` when it can be drawn, else ``fallback`` (never boxes for missing glyphs)."""
        value = "" if text is None else str(text)
        if self.font is None and has_cjk(value):
            other = "" if fallback is None else str(fallback)
            return "" if has_cjk(other) else other
        return value


def font_setup(lang: str) -> FontSetup:
    """Choose the font for an export in ``lang`` and warn when Chinese cannot be drawn.

    Parameters
    ----------
    lang
        Wanted label language, ``"zh"`` or ``"en"``.

    Returns
    -------
    FontSetup
        With ``lang`` switched to ``"en"`` when no Chinese font is installed; a
        :class:`MissingFontWarning` is issued in that case.
    """
    font = find_cjk_font()
    if font is not None:
        return FontSetup(font, lang)
    message = (
        "no Chinese font found (tried "
        + ", ".join(CJK_FAMILIES[:4])
        + ", …); labels are in English and Chinese names are left out. "
        f"Install one with: {INSTALL_HINT}"
    )
    warnings.warn(message, MissingFontWarning, stacklevel=2)
    return FontSetup(None, "en", message)
