/* parkmap map runtime: parkmap's layers and controls for Leaflet 1.9, no other library.
 *
 * Python (parkmap.webmap) writes one call per layer or control, e.g.
 *   var layer = parkmap.projectsLayer(map, {...json...});
 * Rule: every string that comes from the data goes through esc() before it becomes HTML,
 * or is set with textContent. Tooltips and popups are built only when they open.
 */
(function () {
  "use strict";

  var pm = (window.parkmap = window.parkmap || {});
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  /** HTML-escape any value. */
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  }

  /** Format a number with fixed decimals and thousands separators; null when missing. */
  function num(x, digits) {
    if (x == null || !isFinite(x)) return null;
    return Number(x).toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }

  /** Escape a template of ours, then put already-escaped HTML values into its {slots}. */
  function fill(template, html) {
    return esc(template).replace(/\{(\w+)\}/g, function (whole, key) {
      return key in html ? html[key] : whole;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  // folium's Popup builds its content with $(`<div>…</div>`)[0] (jQuery). jQuery is not on
  // this page, so provide just that: parse an HTML string into elements, and $(fn) / ready.
  if (typeof window.$ === "undefined") {
    window.$ = function (arg) {
      if (typeof arg === "function") return onReady(arg);
      if (arg === document || arg === window) return { ready: onReady };
      var box = document.createElement("template");
      box.innerHTML = String(arg).trim();
      return Array.prototype.slice.call(box.content.children);
    };
  }

  // ---------------------------------------------------------------- state and setup

  pm.esc = esc;
  pm.instances = pm.instances || [];

  function state(map) {
    if (!map._parkmap) {
      map._parkmap = { map: map, t: {}, layers: {}, renderer: null, data: {} };
      pm.instances.push(map._parkmap);
      pm.map = map;
    }
    return map._parkmap;
  }

  /** The state of a map (the last map made when none is given): map, layers, data. */
  pm.state = function (map) {
    return map ? state(map) : pm.instances[pm.instances.length - 1];
  };

  function makePane(map, name, zIndex) {
    var pane = map.getPane(name) || map.createPane(name);
    pane.style.zIndex = String(zIndex);
    pane.style.pointerEvents = "none";
    return pane;
  }

  /** Words, panes and the shared canvas; runs before any parkmap layer is made. */
  pm.setup = function (map, cfg) {
    var s = state(map);
    s.t = cfg.t;
    s.lang = cfg.lang;
    // One canvas for parks, projects and any vector layer added later: a click then reaches
    // the top-most feature instead of stopping at whichever canvas or SVG lies on top.
    s.renderer = L.canvas({ padding: 0.5, tolerance: 3 });
    map.options.renderer = s.renderer;
    makePane(map, "pmDensity", 350);
    makePane(map, "pmContext", 420);
    if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
    map.on("zoomend", function () {
      map.getContainer().classList.toggle("pm-zoomed-out", map.getZoom() < 9);
    });
  };

  /** folium's keep_in_front without jQuery: layers are looked up once the page has loaded. */
  pm.keepInFront = function (map, getLayers) {
    function front() {
      getLayers().forEach(function (layer) {
        if (layer && map.hasLayer(layer) && layer.bringToFront) layer.bringToFront();
      });
    }
    map.on("overlayadd", front);
    onReady(front);
  };

  // ---------------------------------------------------------------- popups

  function row(label, valueHtml) {
    return "<tr><th>" + esc(label) + "</th><td>" + valueHtml + "</td></tr>";
  }

  function swatch(color, hollow) {
    var style = hollow ? "border-color:" + color : "background:" + color;
    return '<span class="pm-swatch' + (hollow ? " pm-hollow" : "") + '" style="' + style + '"></span>';
  }

  function withUnit(value, unit, t) {
    return value == null ? esc(t.unknown) : esc(value) + " " + esc(unit);
  }

  function parkPopup(s, parks, i) {
    var t = s.t;
    var p = parks[i];
    var ranked = parks.filter(function (q) {
      return q.rank != null;
    }).length;
    var html = '<div class="pm-popup"><h3>' + esc(p.name) + "</h3><table>";
    html += row(t.projects, p.projects == null ? "–" : esc(num(p.projects, 0)));
    html += row(t.investment, withUnit(num(p.investment, 2), t.unit_100m, t));
    html += row(t.area, withUnit(num(p.area, 2), t.unit_area, t));
    html += row(t.density, withUnit(num(p.density, 2), t.unit_density, t));
    html += row(t.rank, p.rank == null ? "–" : esc(p.rank + " / " + ranked));
    html += "</table>";
    var statusRows = "";
    s.data.statuses.forEach(function (status, k) {
      var pair = p.status[k];
      if (!pair || !pair[0]) return;
      statusRows +=
        "<tr><th>" + swatch(s.data.statusColors[k]) + esc(t["status_" + status]) + "</th>" +
        "<td>" + esc(num(pair[0], 0)) + "</td><td>" +
        withUnit(num(pair[1], 2), t.unit_100m, t) + "</td></tr>";
    });
    if (statusRows) html += "<h4>" + esc(t.by_status) + '</h4><table class="pm-cols">' + statusRows + "</table>";
    if (p.top && p.top.length) {
      html += "<h4>" + esc(t.top_industries) + '</h4><table class="pm-cols">';
      p.top.forEach(function (cat) {
        html += "<tr><th>" + esc(cat[0] || t.unclassified) + "</th><td>" + esc(num(cat[1], 0)) +
          "</td><td>" + withUnit(num(cat[2], 2), t.unit_100m, t) + "</td></tr>";
      });
      html += "</table>";
    }
    return html + "</div>";
  }

  function projectPopup(s, d, i) {
    var t = s.t;
    var c = d.columns;
    var html = '<div class="pm-popup"><h3>' + esc(c.name[i]) + "</h3><table>";
    if (c.park[i] >= 0) {
      html += row(t.park, esc(d.parkNames[c.park[i]]));
    } else if (c.km[i] != null) {
      var near = c.near[i] >= 0 ? d.parkNames[c.near[i]] : "";
      var nearHtml = near ? (s.lang === "zh" ? "（" + esc(near) + "）" : " (" + esc(near) + ")") : "";
      html += row(t.park, fill(t.outside, { km: esc(num(c.km[i], 1)), park: nearHtml }));
    }
    html += row(t.investment, withUnit(num(c.inv[i], 2), t.unit_100m, t));
    var status = d.statuses[c.st[i]];
    html += row(t.status, swatch(d.statusColors[c.st[i]]) + esc(t["status_" + status]));
    var industry = d.industries[c.ind[i]];
    if (industry) html += row(t.industry, swatch(d.industryColors[c.ind[i]]) + esc(industry));
    if (c.date[i]) html += row(t.signed_date, esc(c.date[i]));
    if (c.id[i]) html += row(t.project_id, esc(c.id[i]));
    if (c.orig && c.orig[i]) html += row(t.coords_orig, esc(c.orig[i]));
    html += "</table>";
    if (c.warn[i]) html += '<div class="pm-warn">' + esc(t.warnings) + "：" + esc(c.warn[i]) + "</div>";
    return html + "</div>";
  }

  // ---------------------------------------------------------------- layers

  /** Park outlines filled by density class; tooltip and popup with the park's totals. */
  pm.parksLayer = function (map, d) {
    var s = state(map);
    s.data.statuses = d.statuses;
    var layer = L.geoJSON(d.geojson, {
      renderer: s.renderer,
      style: function (feature) {
        var p = d.parks[feature.properties.i];
        return { color: "#662506", weight: 1.5, opacity: 0.9, fillColor: p.color, fillOpacity: 0.6 };
      },
    });
    layer.bindTooltip(
      function (target) {
        var p = d.parks[target.feature.properties.i];
        var density = num(p.density, 2);
        return "<b>" + esc(p.name) + "</b><br>" + esc(s.t.density) + " " +
          withUnit(density, s.t.unit_density, s.t);
      },
      { sticky: true, className: "pm-tooltip" }
    );
    layer.bindPopup(
      function (target) {
        return parkPopup(s, d.parks, target.feature.properties.i);
      },
      { maxWidth: 360, className: "pm-popup-wrap" }
    );
    // Parks lie under the projects on the shared canvas, also after being switched back on.
    layer.on("add", function () {
      layer.bringToBack();
    });
    s.layers.parks = layer;
    s.data.parks = d;
    return layer;
  };

  function markerRadius(inv, max) {
    if (inv == null || !max) return 4;
    return 3 + 13 * Math.sqrt(Math.max(inv, 0) / max);
  }
  pm.markerRadius = markerRadius;

  function markerColor(d, i) {
    var c = d.columns;
    return d.colorBy === "industry" ? d.industryColors[c.ind[i]] : d.statusColors[c.st[i]];
  }

  /** Projects as circle markers on the shared canvas, made from column arrays. */
  pm.projectsLayer = function (map, d) {
    var s = state(map);
    var c = d.columns;
    s.data.statusColors = d.statusColors;
    var group = L.featureGroup();
    for (var i = 0; i < c.lon.length; i++) {
      var color = markerColor(d, i);
      var known = c.inv[i] != null;
      group.addLayer(
        L.circleMarker([c.lat[i], c.lon[i]], {
          renderer: s.renderer,
          radius: markerRadius(c.inv[i], d.invMax),
          color: known ? "#ffffff" : color,
          weight: known ? 1 : 2,
          fill: known,
          fillColor: color,
          fillOpacity: 0.85,
          pmIndex: i,
        })
      );
    }
    group.bindTooltip(
      function (target) {
        return esc(c.name[target.options.pmIndex]);
      },
      { direction: "top", offset: [0, -6], className: "pm-tooltip" }
    );
    group.bindPopup(
      function (target) {
        return projectPopup(s, d, target.options.pmIndex);
      },
      { maxWidth: 340, className: "pm-popup-wrap" }
    );
    s.layers.projects = group;
    s.data.projects = d;
    return group;
  };

  /** How many project markers the canvas currently draws (on the map and inside the view). */
  pm.drawnCount = function (map) {
    var s = pm.state(map);
    var layers = (s.renderer && s.renderer._layers) || {};
    var n = 0;
    Object.keys(layers).forEach(function (id) {
      var layer = layers[id];
      if (layer.options.pmIndex !== undefined && !layer._empty()) n += 1;
    });
    return n;
  };

  /** The density surface as one image, below parks and projects. */
  pm.densityLayer = function (map, d) {
    var s = state(map);
    var layer = L.imageOverlay(d.url, d.bounds, {
      pane: "pmDensity",
      interactive: false,
      className: "pm-density",
    });
    s.layers.density = layer;
    return layer;
  };

  var PLANE =
    '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path fill="#fff" ' +
    'd="M12 2c.8 0 1.3.7 1.3 1.6v5.6l7.7 4.6v2l-7.7-2.3v4.6l2.3 1.7V21L12 20l-3.6 1v-1.2' +
    'l2.3-1.7v-4.6L3 15.8v-2l7.7-4.6V3.6C10.7 2.7 11.2 2 12 2z"/></svg>';

  function labelIcon(kind, labelHtml, symbol) {
    return L.divIcon({
      className: "pm-place pm-place-" + kind,
      html: (symbol || "") + '<span class="pm-place-label">' + labelHtml + "</span>",
      iconSize: null,
    });
  }

  /** District outlines (dashed) with labels, the airport and county seats. */
  pm.contextLayer = function (map, d) {
    var s = state(map);
    var group = L.layerGroup();
    L.geoJSON(d.districts, {
      pane: "pmContext",
      interactive: false,
      style: { color: "#555555", weight: 1.3, opacity: 0.85, dashArray: "6 4", fill: false },
    }).addTo(group);
    d.districts.features.forEach(function (f) {
      if (!f.properties.label) return;
      L.marker(f.properties.at, {
        pane: "pmContext",
        interactive: false,
        keyboard: false,
        icon: labelIcon("district", esc(f.properties.label)),
      }).addTo(group);
    });
    d.points.forEach(function (p) {
      var symbol =
        p.kind === "airport" ? '<span class="pm-symbol">' + PLANE + "</span>" : '<span class="pm-dot"></span>';
      L.marker([p.lat, p.lon], {
        pane: "pmContext",
        interactive: false,
        keyboard: false,
        icon: labelIcon(p.kind === "airport" ? "airport" : "point", esc(p.label), symbol),
      }).addTo(group);
    });
    s.layers.context = group;
    return group;
  };

  // ---------------------------------------------------------------- controls

  function control(map, position, build) {
    var Ctl = L.Control.extend({
      onAdd: function () {
        var box = build();
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      },
    });
    return new Ctl({ position: position }).addTo(map);
  }

  /** Title and summary line, top left, above the zoom buttons. */
  pm.addTitle = function (map, cfg) {
    var ctl = control(map, "topleft", function () {
      var box = el("div", "pm-box pm-title");
      box.appendChild(el("h1", null, cfg.title));
      if (cfg.summary) box.appendChild(el("p", null, cfg.summary));
      return box;
    });
    var node = ctl.getContainer();
    node.parentNode.insertBefore(node, node.parentNode.firstChild);
    return ctl;
  };

  /** A full-screen button using the browser's Fullscreen API. */
  pm.addFullscreen = function (map) {
    var t = state(map).t;
    var ctl = control(map, "topleft", function () {
      var bar = el("div", "leaflet-bar pm-fullscreen");
      var button = el("a", "pm-fullscreen-button");
      button.href = "#";
      button.setAttribute("role", "button");
      button.title = t.fullscreen;
      button.setAttribute("aria-label", t.fullscreen);
      button.innerHTML =
        '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path fill="none" ' +
        'stroke="#333" stroke-width="2" d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5"/></svg>';
      L.DomEvent.on(button, "click", function (e) {
        L.DomEvent.preventDefault(e);
        var box = map.getContainer();
        if (document.fullscreenElement) document.exitFullscreen();
        else if (box.requestFullscreen) box.requestFullscreen();
      });
      document.addEventListener("fullscreenchange", function () {
        var on = document.fullscreenElement === map.getContainer();
        button.title = on ? t.exit_fullscreen : t.fullscreen;
        map.getContainer().classList.toggle("pm-is-fullscreen", on);
        map.invalidateSize();
      });
      if (!document.fullscreenEnabled) bar.style.display = "none";
      bar.appendChild(button);
      return bar;
    });
    return ctl;
  };

  function legendRow(color, label, count, hollow) {
    var item = el("div", "pm-legend-row");
    var sw = el("span", "pm-swatch" + (hollow ? " pm-hollow" : ""));
    if (hollow) sw.style.borderColor = color;
    else sw.style.background = color;
    item.appendChild(sw);
    item.appendChild(el("span", "pm-legend-label", label));
    if (count != null) item.appendChild(el("span", "pm-legend-count", "(" + count + ")"));
    return item;
  }

  function sizeRow(radius, label, hollow) {
    var item = el("div", "pm-legend-row pm-size-row");
    var box = el("span", "pm-size-box");
    var dot = el("span", "pm-size-dot" + (hollow ? " pm-hollow" : ""));
    dot.style.width = dot.style.height = 2 * radius + "px";
    box.appendChild(dot);
    item.appendChild(box);
    item.appendChild(el("span", "pm-legend-label", label));
    return item;
  }

  function section(box, title, layerKey) {
    var part = el("div", "pm-legend-section");
    if (layerKey) part.setAttribute("data-layer", layerKey);
    part.appendChild(el("h4", null, title));
    box.appendChild(part);
    return part;
  }

  /** Legend: park classes, marker colours, marker sizes and the density ramp. */
  pm.addLegend = function (map, cfg) {
    var s = state(map);
    var t = s.t;
    var ctl = control(map, "bottomright", function () {
      var box = el("div", "pm-box pm-legend");
      var parks = section(box, cfg.parks.title, "parks");
      cfg.parks.entries.forEach(function (e) {
        parks.appendChild(legendRow(e.color, e.label, e.count));
      });
      parks.appendChild(el("div", "pm-legend-note", cfg.parks.scheme));

      var markers = section(box, cfg.markers.title, "projects");
      cfg.markers.entries.forEach(function (e) {
        markers.appendChild(legendRow(e.color, e.label, e.count));
      });
      var sizes = cfg.sizes;
      if (sizes.values.length || sizes.unknown) {
        var part = section(box, sizes.title, "projects");
        sizes.values.forEach(function (v) {
          part.appendChild(sizeRow(markerRadius(v, sizes.max), num(v, v < 10 ? 1 : 0)));
        });
        if (sizes.unknown) part.appendChild(sizeRow(4, t.unknown_investment, true));
      }
      if (cfg.density) {
        var dens = section(box, cfg.density.title, "density");
        var stops = cfg.density.stops;
        var bar = el("div", "pm-ramp");
        bar.style.background =
          "linear-gradient(to right," +
          stops
            .map(function (st) {
              return rgba(st.color, st.opacity) + " " + Math.round((100 * st.value) / (stops[stops.length - 1].value || 1)) + "%";
            })
            .join(",") +
          ")";
        dens.appendChild(bar);
        var ticks = el("div", "pm-ramp-ticks");
        stops.forEach(function (st) {
          ticks.appendChild(el("span", null, num(st.value, st.value < 10 ? 2 : 0)));
        });
        dens.appendChild(ticks);
      }
      return box;
    });
    function sync() {
      var parts = ctl.getContainer().querySelectorAll("[data-layer]");
      Array.prototype.forEach.call(parts, function (part) {
        var layer = s.layers[part.getAttribute("data-layer")];
        part.style.display = layer && !map.hasLayer(layer) ? "none" : "";
      });
    }
    map.on("layeradd layerremove", sync);
    onReady(sync);
    return ctl;
  };

  function rgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  /** Data note, bottom left: one line each. */
  pm.addNote = function (map, cfg) {
    return control(map, "bottomleft", function () {
      var box = el("div", "pm-box pm-note");
      cfg.lines.forEach(function (line) {
        box.appendChild(el("div", null, line));
      });
      return box;
    });
  };
})();
