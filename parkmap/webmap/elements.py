"""folium elements that carry parkmap's layers and controls into the page.

Each element renders one line of JavaScript that hands a JSON payload to a function of the
``parkmap`` runtime (``js/main.js`` lists them), e.g.
``var layer = parkmap.projectsLayer(map, {...})``.
The payload goes through :func:`~parkmap.webmap.assets.dumps_js`, and the rendered line is added
to the page as raw text: folium's own ``MacroElement.render`` would run the rendered script
through Jinja a second time, which would evaluate a user's ``{{ … }}`` inside a project name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from parkmap.webmap import assets


class RawHtml(Element):
    """A piece of HTML (or script text) that is inserted as is, never parsed as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def add_runtime(figure: Figure) -> None:
    """Put the parkmap runtime (CSS and JS) into the page header, once."""
    figure.header.add_child(RawHtml(f"<style>{assets.runtime_css()}</style>"), name="parkmap_css")
    figure.header.add_child(RawHtml(f"<script>{assets.runtime_js()}</script>"), name="parkmap_js")


def root_figure(element: Element) -> Figure:
    """The folium ``Figure`` (the page) at the root of ``element``'s tree.

    Raises
    ------
    TypeError
        When the root is not a ``Figure``.
    """
    figure = element.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("a parkmap element must be added to a map inside a folium Figure")
    return figure


def _emit(element: MacroElement, kwargs: dict[str, Any]) -> None:
    figure = root_figure(element)
    add_runtime(figure)
    script = element._template.module.__dict__["script"]
    figure.script.add_child(RawHtml(str(script(element, kwargs))), name=element.get_name())


def late_blocks(figure: Figure) -> dict[str, list[str]]:
    """HTML pieces for the end of the page, after its script, by the element that made them."""
    found: dict[str, list[str]] | None = getattr(figure, "_parkmap_late_blocks", None)
    if found is None:
        found = {}
        figure._parkmap_late_blocks = found  # type: ignore[attr-defined]
    return found


class RuntimeLayer(Layer):
    """A map layer built in the browser by ``parkmap.<factory>(map, payload)``.

    Parameters
    ----------
    factory
        Name of the runtime function that returns a Leaflet layer.
    payload
        JSON-serialisable data for that function.
    name
        Name shown in the layer control.
    show
        Whether the layer is on when the page opens.
    encode
        Optional function applied to ``payload`` when the page is rendered (e.g. packing the
        project columns); ``payload`` itself stays as given, for Python code that inspects it.
    blocks
        Optional function ``(encoded payload, element name) -> (payload, HTML pieces, HTML
        pieces for the end)`` that moves bulky parts of the payload into the page body (data
        blocks, before the page script; e.g. :func:`parkmap.webmap.payloads.page_blocks`), and
        parts the first paint does not need after the page script (when the map is an
        :class:`~parkmap.webmap.offline.OfflineMap`, which writes them there; otherwise they
        follow the others).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = parkmap.{{ this.factory }}(
            {{ this._parent.get_name() }}, {{ this.payload_js() }});
        {%- if this.show %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        factory: str,
        payload: Any,
        name: str,
        *,
        show: bool = True,
        encode: Callable[[Any], Any] | None = None,
        blocks: Callable[[Any, str], tuple[Any, list[str], list[str]]] | None = None,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ParkmapLayer"
        self.factory = factory
        self.payload = payload
        self.encode = encode
        self.blocks = blocks
        self._page_payload: Any = None

    def payload_js(self) -> str:
        """The (encoded) payload as script-safe JSON."""
        if self._page_payload is None:
            self._page_payload = self.encode(self.payload) if self.encode else self.payload
        return assets.dumps_js(self._page_payload)

    # branca annotates Element.render as returning str, but MacroElement.render returns None.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        payload = self.encode(self.payload) if self.encode else self.payload
        if self.blocks is not None:
            payload, pieces, late = self.blocks(payload, self.get_name())
            figure = root_figure(self)
            add_runtime(figure)  # decodeBlock must exist when the body's scripts run
            if getattr(self._parent, "writes_late_blocks", False):
                late_blocks(figure)[self.get_name()] = late
            else:
                pieces = [*pieces, *late]
            for k, piece in enumerate(pieces):
                figure.html.add_child(RawHtml(piece), name=f"{self.get_name()}_block{k}")
        self._page_payload = payload
        try:
            _emit(self, kwargs)
        finally:
            self._page_payload = None


class RuntimeCall(MacroElement):
    """A control or setting applied in the browser by ``parkmap.<function>(map, payload)``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        parkmap.{{ this.function }}({{ this._parent.get_name() }}, {{ this.payload_js() }});
        {% endmacro %}
        """
    )

    def __init__(self, function: str, payload: Any) -> None:
        super().__init__()
        self._name = "ParkmapCall"
        self.function = function
        self.payload = payload

    def payload_js(self) -> str:
        """The payload as script-safe JSON."""
        return assets.dumps_js(self.payload)

    # branca annotates Element.render as returning str, but MacroElement.render returns None.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        _emit(self, kwargs)
