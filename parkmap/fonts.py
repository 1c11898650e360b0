"""Find a font that draws Chinese, and the matplotlib settings that embed it.

Which font: a file given by the user (``font=`` / ``--font``) first; else an installed system
font of :data:`CJK_FAMILIES`, in that order; else Noto Sans CJK from the pip package
``noto-cjk-sans-otc`` (SIL Open Font License 1.1), a dependency of parkmap. System fonts are
looked up in matplotlib's font list, which matplotlib caches on disk (``fontlist-v*.json`` in
``MPLCONFIGDIR`` or ``~/.cache/matplotlib``); a font installed after that cache was written is
missing from it, so on a miss the font folders are searched for files the cache does not know
(``fc-list :lang=zh`` where fontconfig exists), and those that draw Chinese are added.

PDF: matplotlib's Type 42 output wraps the font in a ``FontFile2`` stream, which the PDF
specification reserves for TrueType (``glyf``) outlines. Noto Sans CJK and Source Han Sans are
OpenType/CFF fonts (the pip font too: CFF faces in a TrueType collection, like Debian's
``fonts-noto-cjk``); with ``pdf.fonttype = 42`` matplotlib still writes them there, and poppler
reports "Mismatch between font type and embedded font file". So a CFF font is embedded as
Type 3 (each glyph used becomes a small drawing procedure, with a ``ToUnicode`` map so the text
can be searched and copied), and a TrueType font (WenQuanYi Zen Hei, AR PL UMing) as Type 42.
Both are subsets: only the glyphs a page uses are embedded.

SVG: ``svg.fonttype = "path"`` draws every glyph as an outline, so the SVG looks the same in a
browser, Word or Inkscape on a machine without the font; the SVG stays plain XML, and matplotlib
writes each text string beside its outlines as a comment.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parkmap.errors import InputError, MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

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

#: The pip package (distribution and import name) that bundles Noto Sans CJK, and its file.
BUNDLED_DISTRIBUTION = "noto-cjk-sans-otc"
BUNDLED_MODULE = "noto_cjk_sans_otc"
BUNDLED_FILE = "NotoSansCJK-Regular.ttc"

#: What to install when no Chinese font is found.
INSTALL_HINT = f"pip install {BUNDLED_DISTRIBUTION}"

#: Family for Latin text and symbols when no Chinese font is used.
LATIN_FAMILY = "DejaVu Sans"

#: sfnt versions of the font files matplotlib can embed in PDF (TrueType, OpenType/CFF).
_SFNT_TAGS = {b"\x00\x01\x00\x00": "truetype", b"true": "truetype", b"OTTO": "cff"}

_CJK = re.compile(
    "[\u2e80-\u9fff\u3000-\u303f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]"
)


class MissingFontWarning(UserWarning):
    """No Chinese font was found (English labels only); Chinese names cannot be drawn."""


class MissingFontError(MissingDependencyError):
    """Chinese labels were asked for, but no font that draws Chinese was found."""


@dataclass(frozen=True)
class CjkFont:
    """A face of a font file that matplotlib knows (registered in its font list).

    Attributes
    ----------
    family
        Family name as matplotlib knows it, e.g. ``"Noto Sans CJK SC"``.
    path
        Font file (``.ttc``, ``.otf`` or ``.ttf``).
    outlines
        ``"truetype"`` (``glyf``) or ``"cff"``; decides how PDFs embed it.
    index
        Face of a collection (``.ttc``); 0 for a single font.
    """

    family: str
    path: Path
    outlines: str
    index: int = 0

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


@lru_cache(maxsize=256)
def _draws_cached(path: str, index: int, text: str, stamp: tuple[int, int]) -> bool:
    from matplotlib import ft2font

    try:  # face_index: matplotlib >= 3.10, which also lists every face of a collection
        font = ft2font.FT2Font(path, face_index=index) if index else ft2font.FT2Font(path)
    except Exception:  # an unreadable font file is simply not a candidate
        return False
    return all(font.get_char_index(ord(ch)) for ch in text)


def _draws(path: str | Path, index: int, text: str) -> bool:
    """True when face ``index`` of the font file maps every character of ``text`` to a glyph."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return _draws_cached(os.fspath(path), index, text, (info.st_size, info.st_mtime_ns))


@cache
def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _weight(value: str | int) -> int:
    if isinstance(value, int):
        return value
    return {"normal": 400, "regular": 400, "bold": 700, "light": 300}.get(str(value), 400)


def _as_font(entry: Any) -> CjkFont:
    path = Path(entry.fname)
    index = int(getattr(entry, "index", 0) or 0)
    return CjkFont(entry.name, path, _SFNT_TAGS.get(_sfnt_tag(path, index), "truetype"), index)


def _pick(
    entries: Iterable[Any], families: Sequence[str] | None, *, skip: frozenset[str] = frozenset()
) -> CjkFont | None:
    """The first face that draws :data:`PROBE`: by ``families`` order (any family if ``None``).

    Upright faces only, the regular weight first; files in ``skip`` (real paths) are left out.
    """
    faces = [e for e in entries if e.style == "normal" and _real(e.fname) not in skip]
    order = list(dict.fromkeys(e.name for e in faces)) if families is None else list(families)
    for family in order:
        candidates = [e for e in faces if e.name == family]
        candidates.sort(key=lambda e: abs(_weight(e.weight) - 400))
        for entry in candidates:
            index = int(getattr(entry, "index", 0) or 0)
            if os.path.isfile(entry.fname) and _draws(entry.fname, index, PROBE):
                return _as_font(entry)
    return None


def _entries_of(path: str | Path) -> list[Any]:
    from matplotlib import font_manager

    real = _real(os.fspath(path))
    return [e for e in font_manager.fontManager.ttflist if _real(e.fname) == real]


def _register(path: str | Path) -> list[Any]:
    """Add a font file to matplotlib's font list (once); return its entries, every face."""
    from matplotlib import font_manager

    entries = _entries_of(path)
    if not entries:
        font_manager.fontManager.addfont(os.fspath(path))
        entries = _entries_of(path)
    return entries


def bundled_font_path() -> Path | None:
    """The Noto Sans CJK collection of the ``noto-cjk-sans-otc`` package, or ``None``.

    Found through the import system (a regular, namespace or editable install) and, failing
    that, through the package's installed file list.
    """
    try:
        spec = importlib.util.find_spec(BUNDLED_MODULE)
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder, BUNDLED_FILE)
        if candidate.is_file():
            return candidate
    try:
        files = importlib.metadata.files(BUNDLED_DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for item in files:
        if item.name == BUNDLED_FILE:
            candidate = Path(str(item.locate()))
            if candidate.is_file():
                return candidate
    return None


@cache
def _fc_list_chinese() -> tuple[str, ...] | None:
    """Font files fontconfig says cover Chinese, or ``None`` without a working ``fc-list``."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--format=%{file}\\n", ":lang=zh"],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return tuple(os.fsdecode(line) for line in out.splitlines() if line.strip())


@cache
def _font_folder_files() -> tuple[str, ...]:
    """TrueType/OpenType files in the usual font folders (where there is no ``fc-list``)."""
    from matplotlib import font_manager

    if sys.platform == "win32":
        folders = [
            getattr(font_manager, "win32FontDirectory", lambda: "")(),
            *getattr(font_manager, "MSUserFontDirectories", []),
        ]
    else:
        folders = list(getattr(font_manager, "X11FontDirectories", []))
        if sys.platform == "darwin":
            folders += getattr(font_manager, "OSXFontDirectories", [])
    found: set[str] = set()
    for folder in folders:
        if folder and os.path.isdir(folder):
            found.update(font_manager.list_fonts(folder, ["ttf", "otf", "ttc"]))
    return tuple(sorted(found))


def _system_font_files() -> tuple[str, ...]:
    """Installed font files that may draw Chinese (all of them when fontconfig is missing)."""
    if os.environ.get("MPL_IGNORE_SYSTEM_FONTS"):
        return ()
    listed = _fc_list_chinese()
    return listed if listed is not None else _font_folder_files()


def _add_new_system_fonts(skip: frozenset[str]) -> list[Any]:
    """Register installed fonts that matplotlib's (possibly stale) font list lacks.

    Only files not yet in the list are opened, and only those that draw :data:`PROBE` are
    added. Returns the new entries.
    """
    from matplotlib import font_manager

    known = {_real(e.fname) for e in font_manager.fontManager.ttflist} | set(skip)
    added: list[Any] = []
    for name in _system_font_files():
        if _real(name) in known or not _draws(name, 0, PROBE):
            continue
        known.add(_real(name))
        try:
            added += _register(name)
        except Exception:  # a font matplotlib cannot read is not a candidate
            continue
    return added


def find_cjk_font() -> CjkFont | None:
    """Return the font that draws Chinese for exports, registered with matplotlib, or ``None``.

    A system font first: one of :data:`CJK_FAMILIES` in that order, looked up in matplotlib's
    font list (``matplotlib.font_manager.fontManager``); on a miss, fonts installed after
    matplotlib cached that list are added (see the module notes) and the lookup runs again,
    then any new font that draws Chinese is taken. Else the bundled Noto Sans CJK
    (:func:`bundled_font_path`). ``None`` only when none of these exists. Regular weight is
    preferred.
    """
    from matplotlib import font_manager

    bundled = bundled_font_path()
    skip = frozenset({_real(os.fspath(bundled))} if bundled else ())
    font = _pick(font_manager.fontManager.ttflist, CJK_FAMILIES, skip=skip)
    if font is not None:
        return font
    added = _add_new_system_fonts(skip)
    if added:
        font = _pick(added, CJK_FAMILIES) or _pick(added, None)
        if font is not None:
            return font
    if bundled is None:
        return None
    entries = _register(bundled)
    return _pick(entries, CJK_FAMILIES) or _pick(entries, None)


def font_file(path: str | os.PathLike[str]) -> tuple[CjkFont, bool]:
    """Register a TTF, OTF or TTC file with matplotlib and return the face to use.

    Parameters
    ----------
    path
        The font file.

    Returns
    -------
    tuple
        The face (of a collection: the first of :data:`CJK_FAMILIES`, else the first that
        draws Chinese, else face 0) and whether it draws Chinese (:data:`PROBE`).

    Raises
    ------
    InputError
        When the file is missing or is not a TrueType/OpenType font or collection.
    """
    file = Path(path).expanduser()
    what = "give a TrueType/OpenType font file (.ttf, .otf or .ttc)"
    if not file.is_file():
        raise InputError(f"font {str(path)!r}: no such file; {what}")
    try:
        readable = os.access(file, os.R_OK) and _sfnt_tag(file) in _SFNT_TAGS
        entries = _register(file) if readable else []
    except Exception:  # FreeType or the font's name table could not be read
        entries = []
    if not entries:
        raise InputError(f"font {str(path)!r}: not a font parkmap can read; {what}")
    font = _pick(entries, CJK_FAMILIES) or _pick(entries, None)
    if font is not None:
        return font, True
    upright = [e for e in entries if e.style == "normal"] or entries
    return _as_font(upright[0]), False


def _put_first(font: CjkFont) -> None:
    """Make matplotlib resolve ``font.family`` to this face, not another file of that name."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    real = _real(os.fspath(font.path))
    same = [e for e in manager.ttflist if e.name == font.family]
    mine = [e for e in same if _real(e.fname) == real and getattr(e, "index", 0) == font.index]
    if not mine or same[0] is mine[0]:
        return
    ids = {id(e) for e in mine}
    manager.ttflist[:] = mine + [e for e in manager.ttflist if id(e) not in ids]
    clear = getattr(getattr(manager, "_findfont_cached", None), "cache_clear", None)
    if clear is not None:  # findfont caches its answers; the order has changed
        clear()


@dataclass(frozen=True)
class FontSetup:
    """The fonts an export uses and the language its labels are in.

    Attributes
    ----------
    font
        The font that draws Chinese, or ``None`` when none was found (English labels only).
    lang
        ``"zh"`` or ``"en"``, as asked.
    warning
        Why Chinese text cannot be drawn, or ``""``.
    first
        A font given by the user that does not draw Chinese (English labels): it draws the
        text, and ``font`` the characters it lacks.
    """

    font: CjkFont | None
    lang: str
    warning: str = ""
    first: CjkFont | None = None

    @property
    def can_draw_cjk(self) -> bool:
        """True when Chinese text can be drawn."""
        return self.font is not None

    def rc(self) -> dict[RcKeyType, Any]:
        """matplotlib settings: families with fallback, PDF and SVG embedding, literal text.

        ``text.parse_math`` is off, so a title such as ``US$5–US$8`` is printed as written,
        not read as mathtext.
        """
        faces = [f for f in (self.first, self.font) if f is not None]
        return {
            "font.family": list(dict.fromkeys([*(f.family for f in faces), LATIN_FAMILY])),
            "pdf.fonttype": min((f.pdf_fonttype for f in faces), default=42),
            "svg.fonttype": "path",
            "axes.unicode_minus": False,
            "text.parse_math": False,
        }

    @contextmanager
    def use(self) -> Iterator[None]:
        """Draw with these fonts: :meth:`rc` in force, inside a ``with`` block.

        The bundled Noto Sans CJK has one weight; matplotlib then logs, for each bold text,
        that it uses the regular weight instead. Those lines are dropped here (the README
        says it), other log lines are kept.
        """
        import matplotlib

        families = {f.family for f in (self.first, self.font) if f is not None}
        quiet = _OneWeightFilter(families)
        logger = logging.getLogger("matplotlib.font_manager")
        logger.addFilter(quiet)
        try:
            with matplotlib.rc_context(self.rc()):
                yield
        finally:
            logger.removeFilter(quiet)

    def safe(self, text: object, fallback: object = "") -> str:
        """``text`` when it can be drawn, else ``fallback`` (never boxes for missing glyphs)."""
        value = "" if text is None else str(text)
        if self.font is None and has_cjk(value):
            other = "" if fallback is None else str(fallback)
            return "" if has_cjk(other) else other
        return value


class _OneWeightFilter(logging.Filter):
    """Drop matplotlib's "Failed to find font weight … for <family>" for the given families."""

    def __init__(self, families: set[str]) -> None:
        super().__init__()
        self.families = families

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("findfont: Failed to find font weight"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) > 1 and args[1] in self.families)


def no_font_message() -> str:
    """The error line when Chinese labels are asked for and no Chinese font exists."""
    return (
        f"no font that draws Chinese was found (tried {', '.join(CJK_FAMILIES[:4])}, …, and "
        f"the {BUNDLED_DISTRIBUTION} package): run `{INSTALL_HINT}`, or give a font file with "
        "--font PATH (font= in Python), or use --lang en"
    )


def font_setup(lang: str, font: str | os.PathLike[str] | None = None) -> FontSetup:
    """Choose the fonts for an export in ``lang``.

    Parameters
    ----------
    lang
        Wanted label language, ``"zh"`` or ``"en"``; it is never changed.
    font
        A TTF, OTF or TTC file to use first (``--font``). With ``lang="zh"`` it must draw
        Chinese; with ``"en"`` a Latin font is fine, and Chinese names in the data are then
        drawn with the font :func:`find_cjk_font` finds.

    Returns
    -------
    FontSetup
        The fonts. Only with ``lang="en"`` and no Chinese font anywhere is ``font`` ``None``;
        a :class:`MissingFontWarning` then says that Chinese names are left out.

    Raises
    ------
    InputError
        ``font`` is not a readable font, or cannot draw Chinese while ``lang`` is ``"zh"``.
    MissingFontError
        ``lang`` is ``"zh"`` and no font that draws Chinese was found.
    """
    user: CjkFont | None = None
    draws = False
    if font is not None:
        user, draws = font_file(font)
        if not draws and lang == "zh":
            raise InputError(
                f"font {os.fspath(font)!r} cannot draw Chinese (for example {PROBE}): give a "
                "Chinese font, or use --lang en"
            )
    cjk = user if draws else find_cjk_font()
    first = None if draws else user
    for chosen in (cjk, first):
        if chosen is not None:
            _put_first(chosen)
    if cjk is not None:
        return FontSetup(cjk, lang, first=first)
    if lang == "zh":
        raise MissingFontError(no_font_message())
    message = (
        "no font that draws Chinese was found: Chinese names in the data (parks, projects, "
        "industries) and Chinese in the title or caption are left out or replaced by English "
        f"names and ids. To draw them: `{INSTALL_HINT}`, or --font PATH"
    )
    warnings.warn(message, MissingFontWarning, stacklevel=2)
    return FontSetup(None, lang, message, first=first)
