"""A map page in headless Chromium with the network cut, shared by the browser tests."""

from __future__ import annotations

from pathlib import Path

from parkmap.webmap.assets import TEST_HOOKS_SCRIPT


class OfflinePage:
    """A map page in Chromium that may load only its own file.

    Every other request is recorded in ``blocked`` and refused, as on an offline intranet;
    console errors, page errors and dialogs (an ``alert`` from injected markup) are recorded.
    Test modules subclass it for their own helpers.
    """

    READY = "window.parkmap && window.parkmap.ready === true"

    def __init__(self, browser, path: Path, viewport: tuple[int, int] = (1280, 800)):
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on(
            "console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(self.url)
        self.page.wait_for_function(self.READY)
        self.settle()

    def settle(self) -> None:
        """Wait until Leaflet's canvas has painted: two animation frames, then a short pause."""
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        self.page.wait_for_timeout(100)

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught page errors together."""
        return self.console_errors + self.page_errors

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def assert_clean(self) -> None:
        """No request left the file, no error, no dialog."""
        assert self.blocked == []
        assert self.errors == []
        assert self.dialogs == []

    def close(self) -> None:
        self.context.close()


class HookedBrowser:
    """A Playwright browser whose new contexts set the runtime's test flag before any script."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **kwargs):
        context = self._browser.new_context(**kwargs)
        context.add_init_script(script=TEST_HOOKS_SCRIPT)
        return context

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


def with_test_hooks(browser):
    """``browser``, opening pages that get the runtime's test hooks (``parkmap.state()`` …)."""
    return HookedBrowser(browser)
