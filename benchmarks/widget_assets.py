"""Make an ipywidgets/anywidget HTML export (lonboard's ``Map.to_html``) load without a network.

Such a page (``ipywidgets.embed.embed_minimal_html``) needs, besides its own inline widget state:

- RequireJS, from a CDN ``<script>`` tag;
- the Jupyter widgets HTML manager (``@jupyter-widgets/html-manager``, ``embed-amd.js``), from a
  CDN ``<script>`` tag;
- the widget's own front-end module (``anywidget``), which the manager fetches from a CDN at run
  time unless a RequireJS module of that name is already defined;
- whatever the widget's bundled JavaScript fetches itself (lonboard: the WebAssembly of
  ``parquet-wasm``, to decode the Parquet tables in the widget state).

The first two are taken from their npm packages (``npm pack``, cached in ``--assets-dir``), the
third from the ``anywidget`` Python package (its notebook extension is the same module as an
anonymous AMD ``define``, which is given its name here). Each is inlined; the report lists what
was inlined and what could not be (:data:`NOT_INLINABLE`).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.inline_assets import InlineReport

HERE: Final = Path(__file__).resolve().parent
#: Where ``npm pack`` tarballs are unpacked (ignored by git).
DEFAULT_ASSETS: Final = HERE / ".assets"


@dataclass(frozen=True)
class NpmAsset:
    """One file of an npm package that a CDN tag of the page loads."""

    package: str
    version: str
    file: str
    #: Regular expression of the CDN URL this file replaces.
    url: str

    @property
    def folder(self) -> str:
        """Folder name of the unpacked package in the assets directory."""
        return f"{self.package.replace('/', '__').lstrip('@')}-{self.version}"


#: RequireJS 2.3.4 is the version the ipywidgets 8 template links; the npm package ships the
#: unminified ``require.js`` only (86 KB against 17 KB minified).
REQUIREJS: Final = NpmAsset("requirejs", "2.3.4", "require.js", r"[^\"]*/require(\.min)?\.js")
#: The template links ``@jupyter-widgets/html-manager@^1.0.1``; 1.0.15 is the newest 1.x.
HTML_MANAGER: Final = NpmAsset(
    "@jupyter-widgets/html-manager", "1.0.15", "dist/embed-amd.js", r"[^\"]*/embed-amd\.js"
)
#: parquet-wasm, whose WebAssembly lonboard's bundle fetches at run time (see NOT_INLINABLE).
PARQUET_WASM: Final = NpmAsset(
    "parquet-wasm", "0.8.0", "esm/parquet_wasm_bg.wasm", r"[^\"]*/parquet_wasm_bg\.wasm"
)

#: Why lonboard 0.17's page cannot be made to work offline from published packages.
NOT_INLINABLE: Final = (
    "parquet_wasm_bg.wasm: lonboard 0.17's bundled JavaScript fetches the WebAssembly of "
    "parquet-wasm 0.9.0 from a CDN URL written into the bundle when the page runs (it decodes "
    "the layer's Parquet table with it). That version is not published on the npm registry "
    "(the newest there is 0.8.0), and 0.8.0's module does not link against 0.9.0's "
    "wasm-bindgen glue (3 imports missing: setTimeout, clearTimeout, fetch; 6 exports the glue "
    "names are absent). Without editing lonboard's minified bundle the page draws no point "
    "offline"
)


def npm_file(asset: NpmAsset, assets_dir: Path = DEFAULT_ASSETS) -> Path | None:
    """Path of ``asset`` unpacked under ``assets_dir``, fetched with ``npm pack`` if missing.

    Returns ``None`` when it is not there and npm is not installed or fails.
    """
    target = assets_dir / asset.folder / "package" / asset.file
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        return None
    assets_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "pack", "--silent", f"{asset.package}@{asset.version}"],
        cwd=assets_dir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        return None
    tarball = assets_dir / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        archive.extractall(assets_dir / asset.folder, filter="data")
    tarball.unlink()
    return target if target.is_file() else None


def anywidget_amd() -> tuple[str, str] | None:
    """anywidget's front end as a named AMD module, and its origin; ``None`` if not installed."""
    spec = importlib.util.find_spec("anywidget")
    if spec is None or spec.origin is None:
        return None
    from importlib.metadata import version

    source = Path(spec.origin).parent / "nbextension" / "index.js"
    named = name_anonymous_define(source.read_text(encoding="utf-8"), "anywidget")
    if named is None:
        return None
    return named, f"anywidget {version('anywidget')} (Python package, nbextension/index.js)"


def name_anonymous_define(text: str, name: str) -> str | None:
    """``text`` with its one top-level anonymous ``define([deps], factory)`` named ``name``.

    RequireJS refuses an anonymous define in an inline script (it names a module after the file
    it loaded it from), so the module gets the name the widget manager will ask for. ``None``
    when ``text`` has no such line or more than one.
    """
    named, count = re.subn(r"^define\(\[", f"define({json.dumps(name)}, [", text, flags=re.M)
    return named if count == 1 else None


def _script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def inline_widget_assets(html: str, assets_dir: Path = DEFAULT_ASSETS) -> tuple[str, InlineReport]:
    """Inline RequireJS, the widgets HTML manager and anywidget into an ipywidgets export.

    Parameters
    ----------
    html
        The page as ``embed_minimal_html`` (``lonboard.Map.to_html``) wrote it.
    assets_dir
        Cache of unpacked npm packages.

    Returns
    -------
    tuple of (str, InlineReport)
        The page and what was inlined or could not be.
    """
    report = InlineReport()
    for asset in (REQUIREJS, HTML_MANAGER):
        tag = re.compile(r'<script\s+src="' + asset.url + r'"[^>]*>\s*</script>')
        match = tag.search(html)
        if match is None:
            continue
        path = npm_file(asset, assets_dir)
        if path is None:
            report.stubbed.append(f"{asset.file} (npm {asset.package}@{asset.version} not found)")
            inline = f"<!-- {asset.file} stubbed: no local copy -->"
        else:
            inline = _script(path.read_text(encoding="utf-8"))
            report.inlined.append(f"{Path(asset.file).name} (npm {asset.package} {asset.version})")
        html = html[: match.start()] + inline + html[match.end() :]
    if '"model_module": "anywidget"' in html or '"model_module":"anywidget"' in html:
        found = anywidget_amd()
        if found is None:
            report.stubbed.append("anywidget front end (Python package not found)")
        else:
            text, origin = found
            # After RequireJS and the manager (which defines @jupyter-widgets/base), before the
            # widget state that the manager renders once the document has loaded.
            state = html.find('<script type="application/vnd.jupyter.widget-state+json"')
            if state < 0:
                state = html.find("</body>")
            html = html[:state] + _script(text) + "\n" + html[state:]
            report.inlined.append(f"anywidget index.js ({origin})")
    if "parquet_wasm_bg.wasm" in html:
        report.fetched.append("parquet_wasm_bg.wasm (parquet-wasm, from a CDN URL in the bundle)")
    return html, report


#: Init script for the assisted load of a lonboard page (see :func:`assisted_wasm`): a
#: WebAssembly module's function imports that the page's glue does not provide are filled with
#: functions that throw if ever called, so parquet-wasm 0.8.0's module links against the 0.9.0
#: glue in lonboard's bundle. The stubs' names are kept in ``window.__benchStubbed``.
WASM_IMPORT_STUBS: Final = """(() => {
  const stubbed = (window.__benchStubbed = []);
  const fill = (module, imports) => {
    const all = imports || {};
    for (const item of WebAssembly.Module.imports(module)) {
      const space = (all[item.module] = all[item.module] || {});
      if (item.kind === "function" && !(item.name in space)) {
        space[item.name] = () => { throw new Error("benchmark stub called: " + item.name); };
        stubbed.push(item.name);
      }
    }
    return all;
  };
  const instantiate = WebAssembly.instantiate.bind(WebAssembly);
  WebAssembly.instantiate = async (source, imports) => {
    if (source instanceof WebAssembly.Module) return instantiate(source, fill(source, imports));
    const module = await WebAssembly.compile(source);
    return { module, instance: await instantiate(module, fill(module, imports)) };
  };
  WebAssembly.instantiateStreaming = async (response, imports) => {
    const module = await WebAssembly.compileStreaming(response);
    return { module, instance: await instantiate(module, fill(module, imports)) };
  };
})();"""


def assisted_wasm(assets_dir: Path = DEFAULT_ASSETS) -> dict[str, tuple[bytes, str]] | None:
    """What the harness serves a lonboard page so that it can draw at all without a network:
    parquet-wasm 0.8.0's WebAssembly (npm) for the 0.9.0 URL in lonboard's bundle. Used with
    :data:`WASM_IMPORT_STUBS`; ``None`` when the npm package cannot be had."""
    path = npm_file(PARQUET_WASM, assets_dir)
    if path is None:
        return None
    return {"parquet_wasm_bg.wasm": (path.read_bytes(), "application/wasm")}
