/* projects.js — every project on one canvas, drawn from the decoded columns: points, or
 * hexagon bins when too many are in view; the hit test, tooltip, popup and search. */

/** Extra pixels around a marker that still count as on it. */
var HIT_SLOP = 3;

/** Marker radius (px) for investment inv (亿元) when the largest is max; 4 when unknown. */
function markerRadius(inv, max) {
  if (inv == null || !max) return 4;
  return 3 + 13 * Math.sqrt(Math.max(inv, 0) / max);
}

function invOf(c, i) {
  return c.inv[i] < 0 ? null : c.inv[i];
}

/** Whether a mouse event is on the map itself, not on a control, popup or marker. */
function onSurface(e) {
  var target = e.target;
  return !(target && target.closest && target.closest(".leaflet-control-container, .leaflet-popup, .leaflet-marker-pane"));
}

/**
 * The point under pixel p among points drawn at (px[i], py[i]) with radius(i): the largest
 * index (drawn last, so on top) within radius + HIT_SLOP; -1 when none. cells maps cellKey
 * (grid.js) to the indexes drawn in that cell; the 3 × 3 cells around p are looked at.
 */
function pointHit(cells, px, py, radius, p) {
  var best = -1;
  var gx = cellOf(p.x);
  var gy = cellOf(p.y);
  for (var y = gy - 1; y <= gy + 1; y++) {
    for (var x = gx - 1; x <= gx + 1; x++) {
      var list = cells.get(cellKey(x, y));
      if (!list) continue;
      for (var k = 0; k < list.length; k++) {
        var i = list[k];
        var r = radius(i) + HIT_SLOP;
        var dx = px[i] - p.x;
        var dy = py[i] - p.y;
        if (dx * dx + dy * dy <= r * r && i > best) best = i;
      }
    }
  }
  return best;
}

/** The bin (of a Map by hexKey) under container pixel p, origin being the view's top-left
 * layer pixel; null when none. */
function binAt(bins, R, origin, p) {
  var a = pixelToHex(p.x + origin.x, p.y + origin.y, R);
  return bins.get(hexKey(a[0], a[1])) || null;
}

function projectPopup(s, d, i) {
  var t = s.t;
  var c = d.columns;
  var html = '<div class="pm-popup"><h3>' + esc(c.name[i]) + "</h3><table>";
  if (c.park[i] >= 0) {
    // km beside a park: counted there as its ledger declares, from outside the outline
    var declared = c.km[i] != null ? fill(t.declared_outside, { km: esc(num(c.km[i], 1)) }) : "";
    html += row(t.park, esc(d.parkNames[c.park[i]]) + declared);
  } else if (c.km[i] != null) {
    var near = c.near[i] >= 0 ? d.parkNames[c.near[i]] : "";
    var nearHtml = near ? fill(t.near_park, { park: esc(near) }) : "";
    html += row(t.park, fill(t.outside, { km: esc(num(c.km[i], 1)), park: nearHtml }));
  }
  html += row(t.investment, withUnit(num(invOf(c, i), 2), t.unit_100m, t));
  var status = d.statuses[c.st[i]];
  html += row(t.status, swatch(d.statusColors[c.st[i]]) + esc(t["status_" + status]));
  var industry = d.industries[c.ind[i]];
  if (industry) html += row(t.industry, swatch(d.industryColors[c.ind[i]]) + esc(industry));
  if (c.day[i] >= 0) html += row(t.signed_date, esc(isoDay(c.day[i])));
  if (c.id[i]) html += row(t.project_id, esc(c.id[i]));
  var given = c.orig(i);
  if (given) html += row(t.coords_orig, esc(given));
  html += "</table>";
  // Row warnings are validation's own words (English, as in rejected.csv and the problem
  // list): shown as quoted data, marked lang="en", under the page's label (zh: 数据提示).
  if (c.warn[i]) {
    html += '<div class="pm-warn">' + fill(t.warn_line, {
      label: esc(t.warnings),
      text: '<span class="pm-warn-text" lang="en">' + esc(c.warn[i]) + "</span>",
    }) + "</div>";
  }
  return html + "</div>";
}

/**
 * Methods of the projects layer (an L.Layer): all projects painted on one canvas from the
 * column arrays. When more than d.aggregate.above filtered projects are in view, they are
 * binned into screen hexagons (d.aggregate.radius px) coloured by count with fixed breaks.
 */
var projectsLayerMethods = {
  initialize: function (s, d) {
    this._s = s;
    this._d = d;
    this.n = d.n;
    this.loaded = false;
    this.pass = new Uint8Array(d.n).fill(1);
    this.inView = 0;
    this.aggregated = false;
    this.shownTotal = { n: d.n, inv: 0 };
  },

  setColumns: function (c) {
    var map = this._s.map;
    var n = this.n;
    this.c = c;
    this.mx = new Float64Array(n);
    this.my = new Float64Array(n);
    this.px = new Float32Array(n);
    this.py = new Float32Array(n);
    for (var i = 0; i < n; i++) {
      var p = map.project(L.latLng(c.lat[i], c.lon[i]), 0);
      this.mx[i] = p.x;
      this.my[i] = p.y;
    }
    this.loaded = true;
    this.applyFilter(null);
  },

  colorOf: function (i) {
    var d = this._d;
    var c = this.c;
    return d.colorBy === "industry" ? d.industryColors[c.ind[i]] : d.statusColors[c.st[i]];
  },

  radiusOf: function (i) {
    return markerRadius(invOf(this.c, i), this._d.invMax);
  },

  onAdd: function (map) {
    this._canvas = L.DomUtil.create("canvas", "pm-projects leaflet-zoom-hide", map.getPane("pmProjects"));
    map.on("moveend viewreset resize", this.redraw, this);
    var self = this;
    var box = map.getContainer();
    this._onMove = function (e) {
      if (e.buttons || !onSurface(e)) return;
      var hit = self.hitTest(map.mouseEventToContainerPoint(e));
      if (hit) {
        self._showTooltip(hit);
        box.classList.add("pm-pointer");
        e.stopPropagation();
      } else if (self._tip && map.hasLayer(self._tip)) {
        map.closeTooltip(self._tip);
        box.classList.remove("pm-pointer");
      }
    };
    this._onClick = function (e) {
      if ((map.dragging && map.dragging.moved()) || !onSurface(e)) return;
      var hit = self.hitTest(map.mouseEventToContainerPoint(e));
      if (!hit) return;
      e.stopPropagation();
      if (hit.bin) map.setView(hit.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      else self.openPopup(hit.i);
    };
    box.addEventListener("mousemove", this._onMove, true);
    box.addEventListener("click", this._onClick, true);
    this.redraw();
  },

  onRemove: function (map) {
    var box = map.getContainer();
    box.removeEventListener("mousemove", this._onMove, true);
    box.removeEventListener("click", this._onClick, true);
    box.classList.remove("pm-pointer");
    map.off("moveend viewreset resize", this.redraw, this);
    if (this._tip) map.closeTooltip(this._tip);
    L.DomUtil.remove(this._canvas);
    this._canvas = null;
    this.inView = 0;
    this._grid = this._bins = null;
    map.fire("pm:redraw");
  },

  /** Recompute which projects pass the filter f (null: all) and repaint. */
  applyFilter: function (f) {
    if (!this.loaded) return;
    var c = this.c;
    var n = this.n;
    var total = 0;
    var inv = 0;
    // per park, status and industry counts of the passing projects, in this same pass (layers.js)
    var tally = projectTally(this._s, f);
    for (var i = 0; i < n; i++) {
      var ok = passesFilter(f, c, i);
      this.pass[i] = ok ? 1 : 0;
      if (ok) {
        total += 1;
        if (c.inv[i] > 0) inv += c.inv[i];
        if (tally) tallyProject(tally, c, i);
      }
    }
    this.tally = tally;
    this.shownTotal = { n: total, inv: inv };
    this.redraw();
    this._s.map.fire("pm:filtered");
  },

  redraw: function () {
    var map = this._map;
    if (!map || !this.loaded || !this._canvas) return;
    var size = map.getSize();
    var ratio = window.devicePixelRatio || 1;
    var cv = this._canvas;
    cv.width = Math.round(size.x * ratio);
    cv.height = Math.round(size.y * ratio);
    cv.style.width = size.x + "px";
    cv.style.height = size.y + "px";
    L.DomUtil.setPosition(cv, map.containerPointToLayerPoint([0, 0]));
    var ctx = cv.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    var scale = map.options.crs.scale(map.getZoom()) / map.options.crs.scale(0);
    var min = map.getPixelBounds().min;
    var margin = 16;
    var visible = [];
    for (var i = 0; i < this.n; i++) {
      if (!this.pass[i]) continue;
      var x = this.mx[i] * scale - min.x;
      var y = this.my[i] * scale - min.y;
      if (x < -margin || y < -margin || x > size.x + margin || y > size.y + margin) continue;
      this.px[i] = x;
      this.py[i] = y;
      visible.push(i);
    }
    this.inView = visible.length;
    this.aggregated = visible.length > this._d.aggregate.above;
    this._scale = scale;
    this._min = min;
    if (this.aggregated) this._drawBins(ctx, visible);
    else this._drawPoints(ctx, visible);
    map.fire("pm:redraw");
  },

  _drawPoints: function (ctx, visible) {
    var c = this.c;
    var cells = new Map();
    this._bins = null;
    for (var k = 0; k < visible.length; k++) {
      var i = visible[k];
      var x = this.px[i];
      var y = this.py[i];
      var r = this.radiusOf(i);
      var color = this.colorOf(i);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      if (c.inv[i] >= 0) {
        ctx.globalAlpha = 0.85;
        ctx.fillStyle = color;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.lineWidth = 1;
        ctx.strokeStyle = "#ffffff";
      } else {
        ctx.lineWidth = 2;
        ctx.strokeStyle = color;
      }
      ctx.stroke();
      var key = cellKey(cellOf(x), cellOf(y));
      var list = cells.get(key);
      if (list) list.push(i);
      else cells.set(key, [i]);
    }
    this._grid = cells;
  },

  _drawBins: function (ctx, visible) {
    var agg = this._d.aggregate;
    var R = agg.radius;
    var min = this._min;
    var bins = new Map();
    this._grid = null;
    for (var k = 0; k < visible.length; k++) {
      var i = visible[k];
      var a = pixelToHex(this.px[i] + min.x, this.py[i] + min.y, R);
      var key = hexKey(a[0], a[1]);
      var bin = bins.get(key);
      if (!bin) bins.set(key, (bin = { q: a[0], r: a[1], n: 0, inv: 0 }));
      bin.n += 1;
      if (this.c.inv[i] > 0) bin.inv += this.c.inv[i];
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#ffffff";
    bins.forEach(function (bin) {
      var centre = hexCentre(bin.q, bin.r, R);
      var cx = centre.x - min.x;
      var cy = centre.y - min.y;
      var cls = 0;
      while (cls < agg.breaks.length && bin.n > agg.breaks[cls]) cls += 1;
      ctx.beginPath();
      for (var v = 0; v < 6; v++) {
        var angle = (Math.PI / 180) * (60 * v - 30);
        var hx = cx + R * Math.cos(angle);
        var hy = cy + R * Math.sin(angle);
        if (v) ctx.lineTo(hx, hy);
        else ctx.moveTo(hx, hy);
      }
      ctx.closePath();
      ctx.globalAlpha = 0.8;
      ctx.fillStyle = agg.colors[cls];
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.stroke();
    });
    this._bins = bins;
  },

  /** The project ({i, latlng}) or bin ({bin, latlng}) under a container point; null when none. */
  hitTest: function (p) {
    if (!this._map || !this.loaded) return null;
    if (this._bins) {
      var R = this._d.aggregate.radius;
      var bin = binAt(this._bins, R, this._min, p);
      if (!bin) return null;
      var centre = hexCentre(bin.q, bin.r, R);
      return { bin: bin, latlng: this._map.unproject(L.point(centre.x, centre.y), this._map.getZoom()) };
    }
    if (!this._grid) return null;
    var self = this;
    var best = pointHit(this._grid, this.px, this.py, function (i) {
      return self.radiusOf(i);
    }, p);
    return best < 0 ? null : { i: best, latlng: L.latLng(this.c.lat[best], this.c.lon[best]) };
  },

  _showTooltip: function (hit) {
    var t = this._s.t;
    if (!this._tip) this._tip = L.tooltip({ direction: "top", offset: [0, -6], className: "pm-tooltip" });
    var html;
    if (hit.bin) {
      html =
        esc(t.cell_projects) + " " + esc(num(hit.bin.n, 0)) + "<br>" + esc(t.cell_investment) + " " +
        withUnit(num(hit.bin.inv, 2), t.unit_100m, t) + "<br><i>" + esc(t.aggregate_hint) + "</i>";
    } else {
      html = esc(this.c.name[hit.i]);
    }
    this._tip.setLatLng(hit.latlng).setContent(html);
    if (!this._map.hasLayer(this._tip)) this._map.openTooltip(this._tip);
  },

  /** Open the popup of project i (built now, from the arrays). */
  openPopup: function (i) {
    var popup = L.popup({ maxWidth: 340, className: "pm-popup-wrap" });
    popup.setLatLng([this.c.lat[i], this.c.lon[i]]).setContent(projectPopup(this._s, this._d, i));
    this._s.map.openPopup(popup);
    return popup;
  },
};

// Made on first use, so that the runtime also loads without Leaflet (the unit tests of its
// pure functions do that).
var ProjectsLayer = null;

/** Projects from the packed column arrays, painted on one canvas. */
function projectsLayer(map, d) {
  var s = mapState(map);
  if (!ProjectsLayer) ProjectsLayer = L.Layer.extend(projectsLayerMethods);
  s.data.statusColors = d.statusColors;
  var layer = new ProjectsLayer(s, d);
  s.layers.projects = layer;
  s.data.projects = d;
  var done = expectData();
  unpack(d[PAYLOAD_SCHEMA.packed])
    .then(function (raw) {
      d.columns = decodeColumns(PAYLOAD_SCHEMA, d, raw);
      layer.setColumns(d.columns);
    })
    .catch(function (err) {
      console.error("parkmap: could not unpack the projects: " + err);
    })
    .then(done);
  return layer;
}

/** Projects passing the filters inside the view (as points or in bins); 0 when the layer is off. */
function drawnCount(s) {
  var layer = s.layers.projects;
  return layer && layer._map ? layer.inView : 0;
}

/** Whether the projects are shown as hexagon bins (too many in view) rather than points. */
function isAggregated(s) {
  var layer = s.layers.projects;
  return Boolean(layer && layer._map && layer.aggregated);
}

/** Indexes of projects whose name contains text (case-insensitive), at most limit. */
function searchProjects(s, text, limit) {
  var layer = s.layers.projects;
  var needle = String(text || "").trim().toLowerCase();
  if (!needle || !layer.loaded) return [];
  if (!layer.lowerNames) {
    layer.lowerNames = layer.c.name.map(function (x) {
      return String(x).toLowerCase();
    });
  }
  var out = [];
  for (var i = 0; i < layer.n && out.length < (limit || 10); i++) {
    if (layer.lowerNames[i].indexOf(needle) >= 0) out.push(i);
  }
  return out;
}
