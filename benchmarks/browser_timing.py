"""Load-and-paint time of a map page in headless Chromium, with the network cut.

Each page gets a fresh browser (cold cache, no state carried over). Every request except the
page's own file is aborted. The clock is the page's own: ``performance.now()`` (milliseconds since
navigation start) read at the second animation frame after (1) the load event and (2) the map's
layers exist. Two frames after the layers exist means the frame that draws them has been painted.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from playwright.sync_api import Route


def find_chromium() -> str:
    """The system's Chromium (Debian package ``chromium``), as the browser tests use it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise SystemExit("no Chromium found: install the 'chromium' package (or use --no-browser)")
    return found


CHROMIUM_ARGS: Final = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")

#: parkmap exposes its Leaflet map as ``window.parkmap.map``; ready once a layer is on it.
PARKMAP_READY: Final = """() => {
  const pm = window.parkmap;
  if (!(pm && pm.map)) return false;
  let n = 0;
  pm.map.eachLayer(() => { n += 1; });
  return n > 0;
}"""

#: folium (and so geopandas.explore) keeps the map in a global ``map_<id>``; its layers are added
#: by the same inline script, so a map with more than one layer is a finished map.
FOLIUM_READY: Final = """() => {
  if (!window.L) return false;
  for (const key of Object.keys(window)) {
    if (key.startsWith('map_') && window[key] instanceof L.Map) {
      let n = 0;
      window[key].eachLayer(() => { n += 1; });
      if (n > 0) return true;
    }
  }
  return false;
}"""

#: Init script for deck.gl pages (lonboard): counts the instances every WebGL2 instanced draw
#: call submits, grouped by the synchronous task that issued them (one deck.gl redraw is one such
#: task: every layer and every data chunk drawn in one go), and keeps the largest group. A
#: scatterplot draws one instance per point, so a group of at least N instances means one redraw
#: put all N points on the canvas.
DECK_DRAW_COUNTER: Final = """(() => {
  const s = (window.__benchDraws = { current: 0, max: 0, draws: 0, open: false });
  const add = (instances) => {
    if (!s.open) {
      s.open = true;
      s.current = 0;
      queueMicrotask(() => { s.open = false; });
    }
    s.draws += 1;
    s.current += instances;
    if (s.current > s.max) s.max = s.current;
  };
  const gl2 = window.WebGL2RenderingContext && WebGL2RenderingContext.prototype;
  if (!gl2) return;
  const arrays = gl2.drawArraysInstanced;
  gl2.drawArraysInstanced = function (mode, first, count, instances) {
    add(instances);
    return arrays.apply(this, arguments);
  };
  const elements = gl2.drawElementsInstanced;
  gl2.drawElementsInstanced = function (mode, count, type, offset, instances) {
    add(instances);
    return elements.apply(this, arguments);
  };
})();"""


def deck_ready(points: int) -> str:
    """Ready condition for a deck.gl page with :data:`DECK_DRAW_COUNTER` as init script: one
    redraw has submitted at least ``points`` instances (every point drawn)."""
    return f"() => !!window.__benchDraws && window.__benchDraws.max >= {int(points)}"


_DOUBLE_RAF: Final = """() => new Promise(resolve =>
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))))"""


@dataclass(frozen=True)
class PaintTiming:
    """Outcome of one page load.

    Attributes
    ----------
    seconds
        Navigation start to the second animation frame after the map is ready; ``None`` when the
        page did not get there within the cap.
    blocked
        Requests the page tried to make and that were aborted (network cut).
    """

    seconds: float | None
    blocked: int


def load_and_paint(
    html: str | Path,
    ready_js: str,
    *,
    cap_s: float = 120.0,
    executable: str | None = None,
    init_js: str | None = None,
    serve: dict[str, tuple[bytes, str]] | None = None,
    screenshot: Path | None = None,
) -> PaintTiming:
    """Open ``html`` in headless Chromium and time it until the map is painted.

    Parameters
    ----------
    html
        Path of the page.
    ready_js
        JavaScript function source returning true once the map and its layers exist
        (:data:`PARKMAP_READY` or :data:`FOLIUM_READY`).
    cap_s
        Give up after this many seconds (wall clock from the start of navigation).
    executable
        Chromium binary (default: :func:`find_chromium`).
    init_js
        Script run in the page before its own scripts (e.g. :data:`DECK_DRAW_COUNTER`).
    serve
        Requests whose URL ends with a key are answered with that ``(body, content type)``
        instead of being aborted (a file the page fetches from a CDN, served locally).
    screenshot
        Where to save a screenshot once the page is painted (taken after the clock stops).

    Returns
    -------
    PaintTiming
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    url = Path(html).resolve().as_uri()
    blocked = 0

    def route(request_route: Route) -> None:
        nonlocal blocked
        request_url = request_route.request.url
        local = next((v for k, v in (serve or {}).items() if request_url.endswith(k)), None)
        if request_url == url:
            request_route.continue_()
        elif local is not None:
            body, content_type = local
            headers = {"Content-Type": content_type, "Access-Control-Allow-Origin": "*"}
            request_route.fulfill(status=200, body=body, headers=headers)
        else:
            blocked += 1
            request_route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable or find_chromium(), args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", route)
            if init_js:
                page.add_init_script(init_js)
            start = time.perf_counter()
            cap_ms = cap_s * 1000.0
            try:
                page.goto(url, wait_until="load", timeout=cap_ms)
                left = cap_ms - (time.perf_counter() - start) * 1000.0
                page.wait_for_function(ready_js, timeout=max(left, 1.0), polling="raf")
                left = cap_ms - (time.perf_counter() - start) * 1000.0
                page.set_default_timeout(max(left, 1.0))
                painted_ms = page.evaluate(_DOUBLE_RAF)
                if screenshot is not None:
                    page.screenshot(path=str(screenshot))
            except PlaywrightError:
                return PaintTiming(None, blocked)
            return PaintTiming(painted_ms / 1000.0, blocked)
        finally:
            browser.close()
