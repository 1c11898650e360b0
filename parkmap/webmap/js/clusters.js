/* clusters.js — the cluster-analysis layers: Gi* hot/cold-spot cells and cluster hulls. */

/** The p-value as shown: three decimals, "< 0.001" below that. */
function pValue(p) {
  if (p == null || !isFinite(p)) return "–";
  return p < 0.001 ? "< 0.001" : num(p, 3);
}

/** Label of a Gi* bin (−3…3) in the page's language. */
function binLabel(t, b, conf) {
  if (!b) return t.gi_ns;
  return (b > 0 ? t.gi_hot : t.gi_cold).replace("{conf}", String(conf));
}

function hotspotRows(s, d, p) {
  var t = s.t;
  var conf = d.confidence[p.b + 3];
  var html = row(t.cell_projects, esc(num(p.n, 0)));
  html += row(t.cell_investment, withUnit(num(p.inv, 2), t.unit_100m, t));
  // Untested (too few cells or projects for Gi*): no z, p, confidence or quadrant to show.
  if (d.untested) return html;
  html += row(t.gi_z, p.z == null ? "–" : esc(num(p.z, 2)));
  html += row(t.gi_p, esc(pValue(p.p)));
  html += row(t.gi_confidence, p.b ? esc(conf + "%") : esc(t.gi_ns));
  html += row(t.lisa, esc(t["lisa_" + p.q] || t.lisa_ns));
  return html;
}

function hotspotTitle(s, d, p) {
  if (d.untested) return swatch(d.colors[3]) + esc(d.untested);
  return swatch(d.colors[p.b + 3]) + esc(binLabel(s.t, p.b, d.confidence[p.b + 3]));
}

/** The hot-spot legend section's note (d.note: why Gi* was not run), once the legend has the
 * section; left alone when the legend already shows a note there. */
function hotspotNote(map, d) {
  if (!d.note) return;
  onReady(function () {
    var part = map.getContainer().querySelector('.pm-legend-section[data-layer="hotspots"]');
    if (!part || part.querySelector(".pm-legend-note")) return;
    part.appendChild(el("div", "pm-legend-note", d.note));
  });
}

/**
 * The hot-spot cells of payload d (cluster_layers.hotspots_payload) as GeoJSON features: the
 * properties from the columns d.cells (q as its quadrant's name, z and p null when the columns
 * are left out), the hexagons from the integers d.shape (hexShapes, as the investment grid), any
 * other outline from d.outlines ([index, geometry]).
 */
function hotspotFeatures(d) {
  var c = d.cells;
  var other = new Map();
  (d.outlines || []).forEach(function (o) {
    other.set(o[0], o[1]);
  });
  var features = c.n.map(function (n, k) {
    return {
      type: "Feature",
      properties: {
        id: c.id[k],
        n: n,
        inv: c.inv[k],
        z: c.z ? c.z[k] : null,
        p: c.p ? c.p[k] : null,
        b: c.b[k],
        q: d.quadrants[c.q[k]] || "ns",
      },
      geometry: other.get(k) || null,
    };
  });
  hexShapes(features, d.shape);
  return { type: "FeatureCollection", features: features };
}

/**
 * Hexagon cells coloured by their Getis–Ord Gi* bin: reds hot, blues cold, cells that are
 * not significant only faintly filled. Tooltip and popup are built when they open.
 */
function hotspotsLayer(map, d) {
  var s = mapState(map);
  if (!d.geojson) d.geojson = hotspotFeatures(d);
  var layer = canvasGeoJSON(s, d.geojson, function (p) {
    if (!p.b) {
      return { color: "#9e9e9e", weight: 0.5, opacity: 0.6, fill: true,
        fillColor: d.colors[3], fillOpacity: 0.15 };
    }
    return { color: "#ffffff", weight: 0.8, opacity: 0.9, fill: true,
      fillColor: d.colors[p.b + 3], fillOpacity: 0.78 };
  });
  layer.bindTooltip(
    function (target) {
      var p = target.feature.properties;
      return '<div class="pm-hotspot-tip"><b>' + hotspotTitle(s, d, p) + "</b><table>" +
        hotspotRows(s, d, p) + "</table></div>";
    },
    { sticky: true, className: "pm-tooltip" }
  );
  layer.bindPopup(
    function (target) {
      var p = target.feature.properties;
      return '<div class="pm-popup pm-hotspot"><h3>' + hotspotTitle(s, d, p) + "</h3><table>" +
        hotspotRows(s, d, p) + "</table></div>";
    },
    { maxWidth: 320, className: "pm-popup-wrap" }
  );
  layer.on("add", function () {
    layer.bringToFront();
    var clusters = s.layers.clusters;
    if (clusters && map.hasLayer(clusters)) clusters.eachLayer(function (l) {
      if (l.bringToFront) l.bringToFront();
    });
  });
  hotspotNote(map, d);
  s.layers.hotspots = layer;
  s.data.hotspots = d;
  return layer;
}

function clusterLabel(t, c) {
  var html = fill(t.cluster_label, {
    id: esc(c.id),
    n: esc(num(c.n, 0)),
    inv: c.inv == null ? esc(t.unknown) : esc(num(c.inv, 1)),
  });
  if (c.industry) html += " · " + esc(c.industry);
  return html;
}

function clusterPopup(s, c) {
  var t = s.t;
  var html = '<div class="pm-popup pm-cluster"><h3>' + fill(t.cluster, { id: esc(c.id) }) + "</h3><table>";
  html += row(t.projects, esc(num(c.n, 0)));
  var inv = withUnit(num(c.inv, 2), t.unit_100m, t);
  if (c.unknown) inv += fill(t.paren, { text: fill(t.cluster_unknown_inv, { n: esc(c.unknown) }) });
  html += row(t.investment, inv);
  html += row(t.hull_area, withUnit(num(c.area, 2), t.unit_area, t));
  html += row(
    t.dominant_industry,
    c.industry
      ? esc(c.industry) + fill(t.paren, { text: fill(t.dominant_projects, { n: esc(c.industryN) }) })
      : "–"
  );
  html += row(
    t.parks_touched,
    c.parks.length ? c.parks.map(esc).join("<br>") : esc(t.none)
  );
  return html + "</table></div>";
}

/**
 * Convex hulls of the project clusters, dashed, with a label at each centre. Only the
 * outline and the label take the mouse, so parks inside a hull stay clickable.
 */
function clustersLayer(map, d) {
  var s = mapState(map);
  var group = L.featureGroup();
  var hulls = L.geoJSON(d.geojson, {
    renderer: s.renderer,
    style: { color: d.color || "#c51b7d", weight: 2.5, opacity: 0.95, dashArray: "8 5", fill: false },
  });
  function content(target) {
    return clusterPopup(s, d.clusters[target.feature.properties.i]);
  }
  hulls.bindTooltip(
    function (target) {
      return clusterLabel(s.t, d.clusters[target.feature.properties.i]);
    },
    { sticky: true, className: "pm-tooltip" }
  );
  hulls.bindPopup(content, { maxWidth: 340, className: "pm-popup-wrap" });
  hulls.addTo(group);
  d.clusters.forEach(function (c, i) {
    if (!c.at) return;
    var label = L.marker(c.at, {
      keyboard: false,
      icon: L.divIcon({
        className: "pm-cluster-label",
        html: "<span>" + fill(s.t.cluster, { id: esc(c.id) }) + "</span>",
        iconSize: null,
      }),
    });
    label.feature = { properties: { i: i } };
    label.bindTooltip(clusterLabel(s.t, c), { direction: "top", className: "pm-tooltip" });
    label.bindPopup(function () {
      return clusterPopup(s, c);
    }, { maxWidth: 340, className: "pm-popup-wrap" });
    label.addTo(group);
  });
  group.on("add", function () {
    hulls.bringToFront();
  });
  s.layers.clusters = group;
  s.data.clusters = d;
  return group;
}
