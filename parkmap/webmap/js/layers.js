/* layers.js — the map's setup (words, panes, shared canvas) and the GeoJSON / image layers:
 * parks, investment grid, density surface, context. */

function makePane(map, name, zIndex) {
  var pane = map.getPane(name) || map.createPane(name);
  pane.style.zIndex = String(zIndex);
  pane.style.pointerEvents = "none";
  return pane;
}

/** Words, panes and the shared canvas; runs before any parkmap layer is made. */
function setup(map, cfg) {
  var s = mapState(map);
  s.t = cfg.t;
  s.lang = cfg.lang;
  // One canvas for parks, projects and any vector layer added later: a click then reaches
  // the top-most feature instead of stopping at whichever canvas or SVG lies on top.
  s.renderer = L.canvas({ padding: 0.5, tolerance: 3 });
  map.options.renderer = s.renderer;
  makePane(map, "pmDensity", 350);
  makePane(map, "pmContext", 420);
  makePane(map, "pmProjects", 450);
  if (map.attributionControl) map.attributionControl.setPrefix("Leaflet");
  map.on("zoomend", function () {
    map.getContainer().classList.toggle("pm-zoomed-out", map.getZoom() < 9);
  });
}

/** folium's keep_in_front without jQuery: layers are looked up once the page has loaded. */
function keepInFront(map, getLayers) {
  function front() {
    getLayers().forEach(function (layer) {
      if (layer && map.hasLayer(layer) && layer.bringToFront) layer.bringToFront();
    });
  }
  map.on("overlayadd", front);
  onReady(front);
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
  // No rank: the density is unknown (no amounts in the file, or a park without area).
  html += row(t.rank, p.rank == null ? esc(t.unknown) : esc(p.rank + " / " + ranked));
  html += "</table>";
  var unknown = s.data.parks.unknown || [];
  var statusRows = "";
  s.data.statuses.forEach(function (status, k) {
    var pair = p.status[k];
    if (!pair || !pair[0]) return;
    statusRows +=
      "<tr><th>" + swatch(s.data.statusColors[k]) + esc(t["status_" + status]) + "</th>" +
      "<td>" + esc(num(pair[0], 0)) + "</td><td>" +
      withUnit(num(pair[1], 2), t.unit_100m, t) + "</td></tr>";
  });
  if (unknown.indexOf("status") >= 0 && p.projects) {
    // The file has no status: say so instead of listing nothing.
    statusRows = "<tr><th>" + swatch(s.data.statusColors[s.data.statuses.indexOf("unknown")]) +
      esc(t.no_status_data) + "</th><td>" + esc(num(p.projects, 0)) + "</td></tr>";
  }
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

/** A GeoJSON layer on the shared canvas, each feature styled from its properties. */
function canvasGeoJSON(s, geojson, styleOf) {
  return L.geoJSON(geojson, {
    renderer: s.renderer,
    style: function (feature) {
      return styleOf(feature.properties);
    },
  });
}

/** Park outlines filled by density class; tooltip and popup with the park's totals. */
function parksLayer(map, d) {
  var s = mapState(map);
  s.data.statuses = d.statuses;
  var layer = canvasGeoJSON(s, d.geojson, function (props) {
    var p = d.parks[props.i];
    return { color: "#662506", weight: 1.5, opacity: 0.9, fillColor: p.color, fillOpacity: 0.6 };
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
}

/**
 * Outlines of the cells sent as integers (payloads.hex_shapes) into the features whose geometry
 * is null, in order: vertex j of cell k = (x0 + c[2k] + t[2j] + v[12k + 2j]) / scale, likewise y.
 */
function hexShapes(features, sh) {
  var k = 0;
  for (var i = 0; i < features.length; i++) {
    if (features[i].geometry) continue;
    var cx = sh.x0 + sh.c[2 * k];
    var cy = sh.y0 + sh.c[2 * k + 1];
    var ring = [];
    for (var j = 0; j < 6; j++) {
      var m = 12 * k + 2 * j;
      ring.push([
        (cx + sh.t[2 * j] + sh.v[m]) / sh.scale,
        (cy + sh.t[2 * j + 1] + sh.v[m + 1]) / sh.scale,
      ]);
    }
    ring.push(ring[0].slice());
    features[i].geometry = { type: "Polygon", coordinates: [ring] };
    k++;
  }
}

/** Investment per hexagon cell (cells from parkmap.density.hex_grid), fixed class breaks. */
function hexLayer(map, d) {
  var s = mapState(map);
  if (d.shape) hexShapes(d.geojson.features, d.shape);
  var layer = canvasGeoJSON(s, d.geojson, function (p) {
    return {
      color: "#2f5d3a",
      weight: 0.7,
      opacity: 0.7,
      fill: true,
      fillColor: p.c >= 0 ? d.colors[p.c] : "#ffffff",
      fillOpacity: p.c >= 0 ? 0.7 : 0.05,
    };
  });
  layer.bindTooltip(
    function (target) {
      var p = target.feature.properties;
      var t = s.t;
      return (
        esc(t.cell_projects) + " " + esc(num(p.n, 0)) + "<br>" + esc(t.cell_investment) + " " +
        withUnit(num(p.inv, 2), t.unit_100m, t) + "<br>" + esc(t.cell_density) + " " +
        withUnit(num(p.d, 2), t.unit_density, t)
      );
    },
    { sticky: true, className: "pm-tooltip" }
  );
  // Cells lie over the parks; a click on a cell opens the park panel underneath.
  layer.on("click", function (e) {
    var parks = s.layers.parks;
    if (!parks || !map.hasLayer(parks)) return;
    var hit = null;
    parks.eachLayer(function (l) {
      if (l._containsPoint && l._containsPoint(e.layerPoint)) hit = l;
    });
    if (hit) hit.openPopup(e.latlng);
  });
  layer.on("add", function () {
    layer.bringToFront();
  });
  s.layers.hexes = layer;
  return layer;
}

/** The density surface as one image, below parks and projects. */
function densityLayer(map, d) {
  var s = mapState(map);
  var layer = L.imageOverlay(d.url, d.bounds, {
    pane: "pmDensity",
    interactive: false,
    className: "pm-density",
  });
  s.layers.density = layer;
  return layer;
}

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
function contextLayer(map, d) {
  var s = mapState(map);
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
}
