"""Make a folium page load offline: CDN ``<script>``/``<link>`` tags replaced by inlined copies.

Only files shipped in installed Python packages are inlined (XStatic packages). An asset with no
local copy is removed and listed as stubbed, so the report says exactly what the page lacked.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

#: URL file name → (XStatic module, file under its data folder).
LOCAL_COPIES: Final[dict[str, tuple[str, str]]] = {
    "leaflet.js": ("xstatic.pkg.leaflet", "leaflet.js"),
    "leaflet.css": ("xstatic.pkg.leaflet", "leaflet.css"),
    "jquery.min.js": ("xstatic.pkg.jquery", "jquery.min.js"),
    "all.min.css": ("xstatic.pkg.font_awesome", "css/all.min.css"),
}

_SCRIPT: Final = re.compile(r'<script\s+src="(?P<url>https?://[^"]+)"\s*>\s*</script>')
_LINK: Final = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>https?://[^"]+)"\s*/?>')


@dataclass
class InlineReport:
    """What :func:`inline_cdn_assets` did: file names inlined (with source) and stubbed; and
    files the page's own scripts fetch at run time that could not be inlined (``fetched``)."""

    inlined: list[str] = field(default_factory=list)
    stubbed: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)


def _file_name(url: str) -> str:
    """``…/jquery-3.7.1.min.js`` → ``jquery.min.js``: the last path part without a version."""
    name = url.rsplit("/", 1)[-1]
    return re.sub(r"-\d+(\.\d+)*(?=\.)", "", name)


def _local_copy(url: str) -> tuple[str, str] | None:
    """Text and origin of a local copy of ``url``'s file, or ``None``."""
    spec = LOCAL_COPIES.get(_file_name(url))
    if spec is None:
        return None
    module_name, rel = spec
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    path = Path(module.BASE_DIR) / rel
    if not path.is_file():
        return None
    version = getattr(module, "VERSION", "?")
    return path.read_text(encoding="utf-8"), f"{module_name} {version}"


def inline_cdn_assets(html: str) -> tuple[str, InlineReport]:
    """Replace CDN scripts and stylesheets in ``html`` with inline copies or remove them.

    Returns
    -------
    tuple of (str, InlineReport)
        The page and what was inlined or stubbed.
    """
    report = InlineReport()

    def swap(match: re.Match[str], tag: str) -> str:
        url = match["url"]
        found = _local_copy(url)
        if found is None:
            report.stubbed.append(_file_name(url))
            return f"<!-- {tag} {url} stubbed: no local copy -->"
        text, origin = found
        report.inlined.append(f"{_file_name(url)} ({origin})")
        safe = text.replace("</script", "<\\/script") if tag == "script" else text
        return f"<{tag}>{safe}</{tag}>"

    html = _SCRIPT.sub(lambda m: swap(m, "script"), html)
    html = _LINK.sub(lambda m: swap(m, "style"), html)
    return html, report
