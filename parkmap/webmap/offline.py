"""A folium map whose page needs no network: Leaflet inlined, no CDN links, no jQuery.

folium 0.20's ``Map`` lists Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers as CDN
``<script>``/``<link>`` tags (``Map.default_js`` / ``Map.default_css``, emitted by
``JSCSSMixin.render``); its template also calls jQuery's ``$(document).ready`` and its default
scale bar shows miles. :class:`OfflineMap` empties both lists, inlines Leaflet 1.9.3 from
``xstatic-leaflet`` instead, and renders its own template. folium's ``Popup`` builds its content
with ``$(`…`)[0]``; the runtime defines a tiny ``$`` for exactly that use when jQuery is absent,
so ordinary folium markers, popups and GeoJSON layers can still be added to the map.
``folium.Icon`` (awesome-markers) is not available offline; use ``folium.CircleMarker``,
``folium.DivIcon`` or Leaflet's default marker instead.
"""

from __future__ import annotations

from typing import Any

import folium
from folium.map import LayerControl
from folium.template import Template

from parkmap.webmap import assets
from parkmap.webmap.elements import RawHtml, add_runtime, late_blocks, root_figure


class OfflineMap(folium.Map):
    """``folium.Map`` for offline use: everything inline, no tiles unless asked for.

    Parameters
    ----------
    location
        Initial centre (lat, lon).
    tiles
        ``None`` (default) for no background tiles; anything ``folium.Map`` accepts otherwise.
    control_scale
        Show a metric scale bar.
    font_size
        Base font size of the map's controls and popups.
    **kwargs
        Passed on to :class:`folium.Map`.
    """

    #: Its render writes the late data blocks of its layers after the page script.
    writes_late_blocks = True

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <meta name="viewport" content="width=device-width, initial-scale=1.0" />
        <style>
            html, body { width: 100%; height: 100%; margin: 0; padding: 0; }
            #{{ this.get_name() }} {
                position: {{ this.position }};
                width: {{ this.width[0] }}{{ this.width[1] }};
                height: {{ this.height[0] }}{{ this.height[1] }};
                left: {{ this.left[0] }}{{ this.left[1] }};
                top: {{ this.top[0] }}{{ this.top[1] }};
            }
            .leaflet-container { font-size: {{ this.font_size }}; }
        </style>
        <script>
            L_NO_TOUCH = {{ this.global_switches.no_touch|tojson }};
            L_DISABLE_3D = {{ this.global_switches.disable_3d|tojson }};
        </script>
        {% endmacro %}

        {% macro html(this, kwargs) %}
        <div class="folium-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {
            center: {{ this.location|tojson }},
            crs: L.CRS.{{ this.crs }},
            ...{{ this.options|tojavascript }}
        });
        {%- if this.control_scale %}
        L.control.scale({ metric: true, imperial: false }).addTo({{ this.get_name() }});
        {%- endif %}
        {%- if this.zoom_control_position %}
        L.control.zoom({ position: {{ this.zoom_control|tojson }} }).addTo({{ this.get_name() }});
        {%- endif %}
        {%- if this.objects_to_stay_in_front %}
        parkmap.keepInFront({{ this.get_name() }}, function () {
            return [
                {%- for obj in this.objects_to_stay_in_front %}{{ obj.get_name() }},{% endfor -%}
            ];
        });
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        location: Any = None,
        *,
        tiles: Any = None,
        control_scale: bool = True,
        font_size: str = "13px",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            location, tiles=tiles, control_scale=control_scale, font_size=font_size, **kwargs
        )
        # Instance lists: folium's add_js_link/add_css_link append in place, and the class
        # attributes of folium.Map are shared module-level lists.
        self.default_js: list[tuple[str, str]] = []
        self.default_css: list[tuple[str, str]] = []

    # branca annotates Element.render as returning str, but MacroElement.render returns None.
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Inline Leaflet and the runtime, then render; the layer control always goes last."""
        figure = root_figure(self)
        header = figure.header
        header.add_child(RawHtml(f"<style>{assets.leaflet_css()}</style>"), name="leaflet_css")
        header.add_child(RawHtml(f"<script>{assets.leaflet_js()}</script>"), name="leaflet_js")
        header.add_child(RawHtml(f"<script>{_default_icon_js()}</script>"), name="leaflet_icon")
        add_runtime(figure)
        # folium.LayerControl lists the map's layers by variable name, so its script must come
        # after every layer, including layers a user adds after build_map() returned.
        for key in [k for k, c in self._children.items() if isinstance(c, LayerControl)]:
            self._children.move_to_end(key)
        super().render(**kwargs)
        # Data the first paint does not need (see RuntimeLayer's blocks) goes after the page
        # script: the page's own </script> closes the script opened at the end.
        late = [piece for pieces in late_blocks(figure).values() for piece in pieces]
        if late:
            figure.script.add_child(
                RawHtml("</script>\n" + "\n".join(late) + "\n<script>"),
                name="parkmap_late_blocks",
            )


def _default_icon_js() -> str:
    """Point Leaflet's default marker icon at data URIs.

    Leaflet finds its icon folder from the CSS ``url(…/marker-icon.png)``; a data URI has no
    folder, so the image path is set to "" and the three URLs are given in full.
    """
    urls = {
        "iconUrl": assets.leaflet_image("marker-icon.png"),
        "iconRetinaUrl": assets.leaflet_image("marker-icon-2x.png"),
        "shadowUrl": assets.leaflet_image("marker-shadow.png"),
    }
    return f"L.Icon.Default.imagePath = '';L.Icon.Default.mergeOptions({assets.dumps_js(urls)});"
