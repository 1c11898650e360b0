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
  var fig = parkFigures(s, i);
  var html = '<div class="pm-popup"><h3>' + esc(p.name) + "</h3>";
  if (fig.filtered) html += '<div class="pm-legend-note">' + esc(t.filtered_figures) + "</div>";
  html += "<table>";
  html += row(t.projects, fig.projects == null ? "–" : esc(num(fig.projects, 0)));
  html += row(t.investment, withUnit(num(fig.investment, 2), t.unit_100m, t));
  html += row(t.area, withUnit(num(p.area, 2), t.unit_area, t));
  html += row(t.density, withUnit(num(fig.density, 2), t.unit_density, t));
  // No rank: the density is unknown (no amounts in the file, or a park without area).
  html += row(t.rank, fig.rank == null ? esc(t.unknown) : esc(fig.rank + " / " + fig.ranked));
  html += "</table>";
  // The breakdowns below are of all projects: say so while a filter is on.
  var allNote = fig.filtered ? " · " + t.legend_all_projects : "";
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
  if (statusRows) {
    html += "<h4>" + esc(t.by_status + allNote) + '</h4><table class="pm-cols">' + statusRows + "</table>";
  }
  if (p.top && p.top.length) {
    html += "<h4>" + esc(t.top_industries + allNote) + '</h4><table class="pm-cols">';
    p.top.forEach(function (cat) {
      html += "<tr><th>" + esc(cat[0] || t.unclassified) + "</th><td>" + esc(num(cat[1], 0)) +
        "</td><td>" + withUnit(num(cat[2], 2), t.unit_100m, t) + "</td></tr>";
    });
    html += "</table>";
  }
  return html + "</div>";
}

// ---------------------------------------------------------------- park figures under filters
//
// Park figures follow the filters: projects.js's applyFilter, in its one pass over the
// projects, adds every passing project to a tally (tallyProject: typed arrays, no per-park scan);
// the parks layer then turns the tally into figures, density classes and colours (refigure)
// and fires "pm:parks" for the legend. Classes keep the breaks of all projects, so a colour
// means the same density whatever the filter; the legend says so. A project in two
// overlapping parks counts in the park its park_id names (Python counts it in both).

var NO_DATA = -1;
var NO_PROJECTS = -2;

/**
 * A zeroed tally of the passing projects: projects (n) and investment (inv) per park, and
 * projects per status (st) and industry (ind) for the marker legend; null before the projects
 * have come.
 */
function projectTally(s, f) {
  var d = s.data.parks;
  var pd = s.data.projects;
  if (!pd || !pd.parkOfLabel) return null;
  var t = s.tally;
  var hexes = s.data.hexes;
  if (t && f && hexes && !t.cell) {
    // the first filter: find each project's grid cell once (grid.js), then sum cells too
    var c = s.layers.projects.c;
    var features = hexes.geojson.features;
    t.cell = cellsOfPoints(features, c.lon, c.lat, c.lon.length);
    t.cn = new Float64Array(features.length);
    t.cinv = new Float64Array(features.length);
  }
  if (!t) {
    var parks = d ? d.parks.length : 0;
    t = s.tally = {
      of: Int32Array.from(pd.parkOfLabel),
      n: new Float64Array(parks),
      inv: new Float64Array(parks),
      st: new Float64Array(pd.statuses.length),
      ind: new Float64Array(pd.industries.length),
    };
  }
  t.n.fill(0);
  t.inv.fill(0);
  t.st.fill(0);
  t.ind.fill(0);
  if (t.cell) {
    t.cn.fill(0);
    t.cinv.fill(0);
  }
  return t;
}

/** Add passing project i of columns c to the tally: its status, industry and park. */
function tallyProject(t, c, i) {
  t.st[c.st[i]] += 1;
  t.ind[c.ind[i]] += 1;
  if (t.cell) {
    var h = t.cell[i];
    if (h >= 0) {
      t.cn[h] += 1;
      if (c.inv[i] > 0) t.cinv[h] += c.inv[i];
    }
  }
  var label = c.park[i];
  if (label < 0) return;
  var k = t.of[label];
  if (k < 0) return;
  t.n[k] += 1;
  if (c.inv[i] > 0) t.inv[k] += c.inv[i];
}

/** Class of density v with the upper bounds bins: the first bin v does not exceed. */
function densityClass(v, bins) {
  if (!bins.length) return NO_DATA;
  var k = 0;
  while (k < bins.length - 1 && v > bins[k]) k += 1;
  return k;
}

/** Fill of class k given the payload's classes. */
function classColor(classes, k) {
  if (k === NO_PROJECTS) return classes.noProjects;
  return k >= 0 && k < classes.colors.length ? classes.colors[k] : classes.noData;
}

/**
 * Figures, classes and colours of the parks from a tally (null, or every project passing:
 * those of all projects, as Python computed them), then restyle the parks; fires "pm:parks".
 */
function refigure(s, tally, all) {
  var d = s.data.parks;
  var parks = d.parks;
  var n = parks.length;
  var noInvestment = (d.unknown || []).indexOf("investment") >= 0;
  var f = {
    filtered: Boolean(tally) && !all,
    cls: new Int8Array(n),
    projects: new Float64Array(n),
    investment: new Float64Array(n),
    density: new Float64Array(n),
    rank: new Int32Array(n),
    ranked: 0,
    counts: {},
  };
  if (tally && all && s.partialProjects == null) {
    // Every project passes, yet a park counts fewer than Python did: the page holds only the
    // projects drawn (the largest of a very large file), and filtered figures say so.
    s.partialProjects = parks.some(function (p, k) {
      return p.projects != null && tally.n[k] < p.projects;
    });
  }
  var order = [];
  for (var k = 0; k < n; k++) {
    var p = parks[k];
    if (!f.filtered) {
      f.cls[k] = p.cls;
      f.projects[k] = p.projects == null ? NaN : p.projects;
      f.investment[k] = p.investment == null ? NaN : p.investment;
      f.density[k] = p.density == null ? NaN : p.density;
    } else {
      var count = tally.n[k];
      f.projects[k] = count;
      f.investment[k] = noInvestment && count ? NaN : tally.inv[k];
      f.density[k] = p.area > 0 ? f.investment[k] / p.area : NaN;
      var v = f.density[k];
      f.cls[k] = count === 0 ? NO_PROJECTS : isFinite(v) ? densityClass(v, d.classes.bins) : NO_DATA;
    }
    f.counts[f.cls[k]] = (f.counts[f.cls[k]] || 0) + 1;
    if (isFinite(f.density[k]) && !noInvestment) order.push(k);
  }
  // rank 1 = densest, ties share the better rank (as parkmap.metrics)
  order.sort(function (a, b) {
    return f.density[b] - f.density[a];
  });
  order.forEach(function (k, j) {
    var prev = order[j - 1];
    f.rank[k] = j && f.density[prev] === f.density[k] ? f.rank[prev] : j + 1;
  });
  f.ranked = order.length;
  if (!f.filtered) {
    f.ranked = parks.filter(function (q) {
      return q.rank != null;
    }).length;
  }
  s.parkFigures = f;
  if (s.layers.parks) s.layers.parks.setStyle(s.layers.parks.options.style);
  refigureHexes(s, tally, all);
  s.map.fire("pm:parks");
}

/** Class of a cell's investment v (> 0) with the grid's fixed breaks, as payloads.hexes_payload. */
function hexClass(v, breaks) {
  var k = 0;
  while (k < breaks.length && v > breaks[k]) k += 1;
  return k;
}

/** Cell figures and classes of the investment grid from the tally (see refigure). */
function refigureHexes(s, tally, all) {
  var d = s.data.hexes;
  if (!d) return;
  var features = d.geojson.features;
  var f = { filtered: Boolean(tally && tally.cell) && !all, counts: {} };
  if (f.filtered) {
    f.n = tally.cn;
    f.inv = tally.cinv;
    f.cls = new Int8Array(features.length);
    for (var k = 0; k < features.length; k++) {
      f.cls[k] = f.inv[k] > 0 ? hexClass(f.inv[k], d.breaks) : -1;
      f.counts[f.cls[k]] = (f.counts[f.cls[k]] || 0) + 1;
    }
  } else {
    d.counts.forEach(function (n, k) {
      f.counts[k] = n;
    });
  }
  s.hexFigures = f;
  if (s.layers.hexes) s.layers.hexes.setStyle(s.layers.hexes.options.style);
}

/** Figures of cell k now: n, inv (亿元), d (亿元/km²), c (class); from Python unless filtered. */
function hexFigures(s, k) {
  var d = s.data.hexes;
  var p = d.geojson.features[k].properties;
  var f = s.hexFigures;
  if (!f || !f.filtered) return p;
  // area from Python's own figures where it gave both, else that of a hexagon cellKm apart
  var area = p.inv > 0 && p.d > 0 ? p.inv / p.d : (Math.sqrt(3) / 2) * d.cellKm * d.cellKm;
  return { n: f.n[k], inv: f.inv[k], d: area > 0 ? f.inv[k] / area : null, c: f.cls[k] };
}

/** Figures of park i now (all projects, or the filtered ones): projects, investment, density,
 * rank, ranked, filtered; null where unknown. */
function parkFigures(s, i) {
  var p = s.data.parks.parks[i];
  var f = s.parkFigures;
  if (!f || !f.filtered) {
    var ranked = s.data.parks.parks.filter(function (q) {
      return q.rank != null;
    }).length;
    return {
      filtered: false, projects: p.projects, investment: p.investment, density: p.density,
      rank: p.rank, ranked: ranked,
    };
  }
  function known(x) {
    return isFinite(x) ? x : null;
  }
  return {
    filtered: true,
    projects: f.projects[i],
    investment: known(f.investment[i]),
    density: known(f.density[i]),
    rank: f.rank[i] ? f.rank[i] : null,
    ranked: f.ranked,
  };
}

/** The park's fill now: its class colour under the filters, else that of all projects. */
function parkColor(s, i) {
  var f = s.parkFigures;
  var d = s.data.parks;
  return f && f.filtered ? classColor(d.classes, f.cls[i]) : d.parks[i].color;
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

/**
 * Park outlines filled by density class; tooltip and popup with the park's totals.
 *
 * Fills are opaque: a reader then sees on a park exactly its legend swatch. Semi-transparent
 * fills over the density surface (on by default) mixed colours no legend shows (khaki,
 * maroon); switching the surface off would hide where projects lie between parks. So the
 * surface stays on, below the parks, and tells about the land around them, while inside a
 * park its class says the same thing more exactly.
 */
function parksLayer(map, d) {
  var s = mapState(map);
  s.data.statuses = d.statuses;
  s.data.parks = d; // before the layer: its style reads it
  var layer = canvasGeoJSON(s, d.geojson, function (props) {
    return {
      color: "#662506",
      weight: 1.5,
      opacity: 0.9,
      fillColor: parkColor(s, props.i),
      fillOpacity: 1,
    };
  });
  layer.bindTooltip(
    function (target) {
      var p = d.parks[target.feature.properties.i];
      var density = num(parkFigures(s, target.feature.properties.i).density, 2);
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
  map.on("pm:filtered", function () {
    var projects = s.layers.projects;
    if (projects && projects.tally) refigure(s, projects.tally, projects.shownTotal.n === projects.n);
  });
  return layer;
}

/**
 * Outlines of the cells sent as integers (payloads.hex_shapes; the investment grid and the
 * hot-spot cells) into the features whose geometry is null, in order: vertex j of cell k = (x0 + c[2k] + t[2j] + v[12k + 2j]) / scale, likewise y.
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
  d.geojson.features.forEach(function (f, k) {
    f.properties.k = k;
  });
  s.data.hexes = d;
  var layer = canvasGeoJSON(s, d.geojson, function (props) {
    var p = hexFigures(s, props.k);
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
      var p = hexFigures(s, target.feature.properties.k);
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
