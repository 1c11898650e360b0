"""Report-ready outputs without a browser: static maps, an atlas PDF and tables.

``export_all(analysis, out)`` writes ``map.png``/``map.svg``/``map.pdf``, ``atlas.pdf``,
``parks.csv``, ``parks.xlsx`` and ``projects.gpkg`` into ``out``; every file is written
atomically (temporary file, then rename). To write the set all at once, or not at all, give it
the folder of :func:`parkmap.write.staged_outputs`, as :func:`parkmap.pipeline.export` does.
``export_all(..., clusters=cluster_analysis(...))`` adds the page of investment hot spots and
project clusters to the atlas.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parkmap.errors import UsageError
from parkmap.export.paper import pixel_size
from parkmap.export.static_map import FORMATS, Sheet
from parkmap.fonts import (
    CjkFont,
    FontSetup,
    MissingFontError,
    MissingFontWarning,
    find_cjk_font,
    font_setup,
)
from parkmap.settings import EXPORT_DEFAULTS, LANGUAGES

if TYPE_CHECKING:
    from parkmap.analysis import Analysis
    from parkmap.cluster import ClusterAnalysis

PathLike = str | os.PathLike[str]


@dataclass
class ExportResult:
    """What :func:`export_all` wrote.

    Attributes
    ----------
    files
        Paths by name: ``map_png``, ``map_svg``, ``map_pdf``, ``atlas``, ``parks_csv``,
        ``parks_xlsx``, ``gpkg``.
    font
        The font that drew Chinese text, or ``None`` (English labels, no Chinese font found).
    lang
        Language of the labels, as asked.
    pixels
        Pixel size of ``map.png`` (width, height), or ``None`` when no PNG was asked for.
    warnings
        Messages for the user (Chinese names left out for want of a font).
    """

    files: dict[str, Path] = field(default_factory=dict)
    font: CjkFont | None = None
    lang: str = "zh"
    pixels: tuple[int, int] | None = None
    warnings: list[str] = field(default_factory=list)


def parse_formats(value: str | Sequence[str]) -> list[str]:
    """``"png,svg"`` → ``["png", "svg"]``; order kept, repeats dropped.

    Raises
    ------
    UsageError
        For an unknown or empty format list.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    formats: list[str] = []
    for item in (str(i).strip().lower().lstrip(".") for i in items):
        if not item:
            continue
        if item not in FORMATS:
            raise UsageError(f"unknown format {item!r}; choose any of: {', '.join(FORMATS)}")
        if item not in formats:
            formats.append(item)
    if not formats:
        raise UsageError(f"no format given; choose any of: {', '.join(FORMATS)}")
    return formats


def export_all(
    analysis: Analysis,
    out: PathLike,
    *,
    formats: str | Sequence[str] | None = FORMATS,
    paper: str = EXPORT_DEFAULTS.paper,
    orientation: str = EXPORT_DEFAULTS.orientation,
    dpi: float = EXPORT_DEFAULTS.dpi,
    title: str | None = None,
    caption: str | None = None,
    lang: str = EXPORT_DEFAULTS.lang,
    scheme: str = EXPORT_DEFAULTS.scheme,
    k: int = EXPORT_DEFAULTS.k,
    atlas: bool = True,
    tables: bool = True,
    clusters: ClusterAnalysis | None = None,
    font: PathLike | FontSetup | None = None,
) -> ExportResult:
    """Write the report set for an analysis into ``out``.

    Parameters
    ----------
    analysis
        From :func:`parkmap.pipeline.analyse`.
    out
        Output folder (created when missing).
    formats
        Any of ``png``, ``svg``, ``pdf`` (list or comma-separated) for ``map.<fmt>``;
        ``None`` or an empty list writes no map sheet (for example only the atlas).
    paper, orientation
        ``a4``/``a3`` and ``landscape``/``portrait``: the sheet of every map and atlas page.
    dpi
        Resolution of ``map.png``; its pixel size is the paper size in inches times ``dpi``.
    title, caption
        Map title (default: the map title in ``lang``) and a line printed under the map, such
        as a map-approval number (审图号) or a source line.
    lang
        ``zh`` or ``en``: the language of every label. Names in the data (parks, projects) are
        drawn as they are, in either language.
    scheme, k
        Park density classes (:func:`parkmap.classes.classify`), as on the interactive map.
    atlas, tables
        Also write ``atlas.pdf``; also write ``parks.csv``, ``parks.xlsx``, ``projects.gpkg``.
    clusters
        The result of :func:`parkmap.cluster.cluster_analysis` on the same projects and parks:
        the atlas then gets the page "投资热点与项目集群 / Investment hot spots and project
        clusters" after the overview (3 + number of parks pages instead of 2 + parks).
        Ignored when ``atlas`` is false.
    font
        A TrueType/OpenType font file (``.ttf``, ``.otf``, ``.ttc``) to draw the text with,
        before any other. Without it: an installed Chinese font, else the Noto Sans CJK of the
        ``noto-cjk-sans-otc`` dependency (:func:`parkmap.fonts.font_setup`). Or the
        :class:`~parkmap.fonts.FontSetup` a caller already chose for ``lang``.

    Returns
    -------
    ExportResult
        Files written, font, label language, PNG pixel size and warnings.

    Raises
    ------
    UsageError
        For an unknown format, paper or language.
    InputError
        When ``font`` is not a readable font, or cannot draw Chinese and ``lang`` is ``zh``.
    MissingFontError
        When ``lang`` is ``zh`` and no font that draws Chinese exists (the message says what
        to install).
    """

    from parkmap.export.atlas import save_atlas
    from parkmap.export.static_map import map_figure, prepare, save_map_sheets, summary_line
    from parkmap.export.tables import save_geopackage, save_parks_tables
    from parkmap.i18n import texts

    if lang not in LANGUAGES:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    no_map = formats is None or (not isinstance(formats, str) and not len(formats))
    wanted = [] if no_map else parse_formats(formats)  # type: ignore[arg-type]
    sheet = Sheet(str(paper).lower(), orientation)
    pixels = pixel_size(sheet.paper, sheet.orientation, dpi)
    if isinstance(font, FontSetup):
        setup = font  # chosen by the caller, who has had its warning
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingFontWarning)
            setup = font_setup(lang, font)
        if setup.warning:
            warnings.warn(setup.warning, MissingFontWarning, stacklevel=2)
    result = ExportResult(font=setup.font, lang=setup.lang)
    if setup.warning:
        result.warnings.append(setup.warning)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    default_title = texts(setup.lang)["title"]
    map_title = setup.safe(title, default_title) if title else default_title
    with setup.use():
        data = prepare(
            analysis.parks,
            analysis.projects,
            analysis.context,
            scheme=scheme,
            k=k,
            lang=setup.lang,
        )
        subtitle = summary_line(analysis.parks, analysis.projects, setup.lang)
        if wanted:
            fig = map_figure(
                data, setup, sheet=sheet, title=map_title, subtitle=subtitle, caption=caption
            )
            for fmt, path in save_map_sheets(fig, out, wanted, dpi=dpi, sheet=sheet).items():
                result.files[f"map_{fmt}"] = path
        if "png" in wanted:
            result.pixels = pixels
        if atlas:
            result.files["atlas"] = save_atlas(
                out / "atlas.pdf",
                data=data,
                projects=analysis.projects,
                setup=setup,
                sheet=sheet,
                title=map_title,
                subtitle=subtitle,
                caption=caption,
                clusters=clusters,
            )
    if tables:
        result.files.update(save_parks_tables(analysis.parks, out, setup.lang))
        result.files["gpkg"] = save_geopackage(
            analysis.parks, analysis.projects, out / "projects.gpkg"
        )
    return result


__all__ = [
    "FORMATS",
    "CjkFont",
    "ExportResult",
    "MissingFontError",
    "MissingFontWarning",
    "export_all",
    "find_cjk_font",
    "parse_formats",
    "pixel_size",
]
