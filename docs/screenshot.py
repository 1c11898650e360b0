"""Take the README's screenshot of a built map in headless Chromium, with the network cut.

Usage: python docs/screenshot.py maps/map.html docs/demo-map.png
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def screenshot(page_path: Path, out: Path, *, width: int = 1400, height: int = 900) -> None:
    """Open ``page_path`` from disk, refuse every other request, and save a PNG."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    url = page_path.resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", lambda r: r.continue_() if r.request.url == url else r.abort())
        page.goto(url)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out))
        browser.close()


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
