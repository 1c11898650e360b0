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
  var html = '<div class="pm-popup"><h3>' + esc(c.name.at(i)) + "</h3><table>";
  if (c.park[i] >= 0) {
    // km beside a park: counted there as its ledger declares, from outside the outline
    var declared = !isNaN(c.km[i]) ? fill(t.declared_outside, { km: esc(num(c.km[i], 1)) }) : "";
    html += row(t.park, esc(d.parkNames[c.park[i]]) + declared);
  } else if (!isNaN(c.km[i])) {
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
  var id = c.id.at(i);
  if (id) html += row(t.project_id, esc(id));
  var given = c.orig(i);
  if (given) html += row(t.coords_orig, esc(given));
  html += "</table>";
  // Row warnings are validation's own words (English, as in rejected.csv and the problem
  // list): shown as quoted data, marked lang="en", under the page's label (zh: 数据提示).
  var warn = c.warn.at(i);
  if (warn) {
    html += '<div class="pm-warn">' + fill(t.warn_line, {
      label: esc(t.warnings),
      text: '<span class="pm-warn-text" lang="en">' + esc(warn) + "</span>",
    }) + "</div>";
  }
  return html + "</div>";
}

/** Points in view above which markers are stamped from sprites (radius rounded to 1 px). */
var SPRITES_ABOVE = 5000;
/** Room around a sprite's circle for its stroke, px. */
var SPRITE_PAD = 2;

/** A project marker: filled (known investment) with a white rim, else a coloured ring. */
function paintMarker(ctx, x, y, r, color, filled) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  if (filled) {
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
}

/** The marker of radius r as a small canvas (cached in sprites), for the device's pixel ratio. */
function markerSprite(sprites, color, r, filled, ratio) {
  var key = color + (filled ? "+" : "-") + r + "@" + ratio;
  var sprite = sprites.get(key);
  if (sprite) return sprite;
  var css = 2 * (r + SPRITE_PAD);
  sprite = document.createElement("canvas");
  sprite.width = Math.ceil(css * ratio);
  sprite.height = Math.ceil(css * ratio);
  sprite.cssSize = css;
  var g = sprite.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  paintMarker(g, r + SPRITE_PAD, r + SPRITE_PAD, r, color, filled);
  sprites.set(key, sprite);
  return sprite;
}

/**
 * Paint sprite's pixels over frame (an ImageData) with its top-left corner at device pixel
 * (ox, oy), "source-over" as the canvas would (colours are not premultiplied in ImageData).
 */
function stampSprite(frame, sprite, ox, oy) {
  if (!sprite.pixels) {
    sprite.pixels = sprite.getContext("2d").getImageData(0, 0, sprite.width, sprite.height).data;
  }
  var src = sprite.pixels;
  var dst = frame.data;
  var W = frame.width;
  var H = frame.height;
  var sw = sprite.width;
  var sh = sprite.height;
  for (var sy = 0; sy < sh; sy++) {
    var ty = oy + sy;
    if (ty < 0 || ty >= H) continue;
    for (var sx = 0; sx < sw; sx++) {
      var tx = ox + sx;
      if (tx < 0 || tx >= W) continue;
      var si = (sy * sw + sx) * 4;
      var a = src[si + 3];
      if (!a) continue;
      var di = (ty * W + tx) * 4;
      var da = dst[di + 3];
      if (a === 255 || !da) {
        dst[di] = src[si];
        dst[di + 1] = src[si + 1];
        dst[di + 2] = src[si + 2];
        dst[di + 3] = a;
        continue;
      }
      var sa = a / 255;
      var keep = (da / 255) * (1 - sa);
      var oa = sa + keep;
      dst[di] = (src[si] * sa + dst[di] * keep) / oa;
      dst[di + 1] = (src[si + 1] * sa + dst[di + 1] * keep) / oa;
      dst[di + 2] = (src[si + 2] * sa + dst[di + 2] * keep) / oa;
      dst[di + 3] = oa * 255;
    }
  }
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
    this.loaded = false; // columns in: painted (the first paint's only; see complete)
    this.completed = false; // every column in
    this.pass = new Uint8Array(d.n).fill(1);
    this.inView = 0;
    this.aggregated = false;
    this.shownTotal = { n: d.n, inv: 0 };
  },

  /** Columns c in; pre: what the decoding worker already worked out from them (mx, my, index
   * for the web Mercator map; see decodeJob), or null. */
  setColumns: function (c, pre) {
    var map = this._s.map;
    var n = this.n;
    this.c = c;
    this.px = new Float32Array(n);
    this.py = new Float32Array(n);
    this.visible = new Int32Array(n);
    if (map.options.crs === L.CRS.EPSG3857) {
      // Leaflet's own projection at zoom 0 (a 256 px world), inline: a million L.latLng
      // objects would cost more than the rest of the load
      var m = pre && pre.mx ? { x: pre.mx, y: pre.my } : mercatorPixels(c.lon, c.lat, n, MAX_LATITUDE);
      this.mx = m.x;
      this.my = m.y;
    } else {
      this.mx = new Float64Array(n);
      this.my = new Float64Array(n);
      for (var j = 0; j < n; j++) {
        var p = map.project(L.latLng(c.lat[j], c.lon[j]), 0);
        this.mx[j] = p.x;
        this.my[j] = p.y;
      }
      pre = null;
    }
    // the grid index: made after the first paint (which draws every project in view and so
    // needs none), by the worker when it decoded the columns; until then redraw visits all
    this.index = null;
    var self = this;
    var indexed = pre && pre.indexed && !pre.index ? pre.indexed : null;
    if (pre && pre.index) this.index = pre.index;
    this.indexed = indexed
      ? indexed.then(function (more) {
          self.index = more.index;
        })
      : Promise.resolve();
    if (!indexed && !this.index) this.index = buildIndex(this.mx, this.my, n);
    this.loaded = true;
    this.applyFilter(null);
  },

  /** Every column is in (setColumns had those of the first paint only): a filter set
   * meanwhile is applied now. */
  complete: function () {
    this.completed = true;
    if (this._waitingFilter) this.applyFilter(this._waitingFilter);
    this._waitingFilter = null;
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
    // (no viewreset: Leaflet fires moveend after it anyway, and a redraw of many points costs)
    map.on("moveend resize", this.redraw, this);
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
    map.off("moveend resize", this.redraw, this);
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
    if (f && !this.completed) {
      this._waitingFilter = f; // (dates not decoded yet)
      return;
    }
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
    var visible = this.visible;
    var count = 0;
    var pass = this.pass;
    var mx = this.mx;
    var my = this.my;
    var px = this.px;
    var py = this.py;
    var w = size.x + margin;
    var h = size.y + margin;
    // only the index cells the view (with its margin) touches, in zoom-0 pixels; when that is
    // most of them, every project in turn (memory in order is faster than the cells' jumps)
    var index = this.index;
    var cells = index
      ? indexCells(index, (min.x - margin) / scale, (min.y - margin) / scale, (min.x + w) / scale, (min.y + h) / scale)
      : [];
    var order = index ? index.order : null;
    var start = index ? index.start : null;
    var all = !index || cells.length > INDEX_SIDE * INDEX_SIDE / 4;
    for (var k = 0; k < (all ? 1 : cells.length); k++) {
      var from = all ? 0 : start[cells[k]];
      var to = all ? this.n : start[cells[k] + 1];
      for (var j = from; j < to; j++) {
        var i = all ? j : order[j];
        if (!pass[i]) continue;
        var x = mx[i] * scale - min.x;
        var y = my[i] * scale - min.y;
        if (x < -margin || y < -margin || x > w || y > h) continue;
        px[i] = x;
        py[i] = y;
        visible[count++] = i;
      }
    }
    var shown = visible.subarray(0, count);
    this.inView = count;
    // Level of detail: bins where many projects crowd the view, every point once zoomed in
    this.aggregated = count > this._d.aggregate.above && map.getZoom() < this._d.aggregate.pointsFrom;
    this._scale = scale;
    this._min = min;
    if (this.aggregated) this._drawBins(ctx, shown);
    else this._drawPoints(ctx, shown.sort()); // largest first: small markers on top
    map.fire("pm:redraw");
  },

  _drawPoints: function (ctx, visible) {
    var c = this.c;
    var cells = new Map();
    var many = visible.length > SPRITES_ABOVE;
    var ratio = window.devicePixelRatio || 1;
    var sprites = (this._sprites = this._sprites || new Map());
    var frame = many ? ctx.createImageData(ctx.canvas.width, ctx.canvas.height) : null;
    this._bins = null;
    for (var k = 0; k < visible.length; k++) {
      var i = visible[k];
      var x = this.px[i];
      var y = this.py[i];
      var r = this.radiusOf(i);
      var color = this.colorOf(i);
      if (many) {
        // a marker painted once, then its pixels copied: canvas paths (or drawImage) by the
        // hundred thousand take the browser a minute to rasterise
        var half = Math.round(r);
        var sprite = markerSprite(sprites, color, half, c.inv[i] >= 0, ratio);
        stampSprite(frame, sprite, Math.round((x - half - SPRITE_PAD) * ratio), Math.round((y - half - SPRITE_PAD) * ratio));
      } else {
        paintMarker(ctx, x, y, r, color, c.inv[i] >= 0);
      }
      var key = cellKey(cellOf(x), cellOf(y));
      var list = cells.get(key);
      if (list) list.push(i);
      else cells.set(key, [i]);
    }
    if (frame) ctx.putImageData(frame, 0, 0);
    this._grid = cells;
  },

  _drawBins: function (ctx, visible) {
    var agg = this._d.aggregate;
    var R = agg.radius;
    var min = this._min;
    var size = this._map.getSize();
    var px = this.px;
    var py = this.py;
    var inv = this.c.inv;
    // bins counted in typed arrays over the hexagons the view can hold (q, r from its corner)
    var corner = pixelToHex(min.x, min.y, R);
    var q0 = corner[0] - Math.ceil(size.y / (3 * R)) - 4;
    var r0 = corner[1] - 4;
    var width = Math.ceil((size.x * SQRT3) / (3 * R) + size.y / (3 * R)) + 12;
    var height = Math.ceil((2 * size.y) / (3 * R)) + 12;
    var counts = new Float64Array(width * height);
    var sums = new Float64Array(width * height);
    var fq = SQRT3 / 3 / R;
    var fr = 2 / 3 / R;
    for (var k = 0; k < visible.length; k++) {
      var i = visible[k];
      var x = px[i] + min.x;
      var y = py[i] + min.y;
      // pixelToHex / hexRound, inline: no array per project
      var aq = fq * x - y / (3 * R);
      var ar = fr * y;
      var as = -aq - ar;
      var rq = Math.round(aq);
      var rr = Math.round(ar);
      var rs = Math.round(as);
      var dq = Math.abs(rq - aq);
      var dr = Math.abs(rr - ar);
      var ds = Math.abs(rs - as);
      if (dq > dr && dq > ds) rq = -rr - rs;
      else if (dr > ds) rr = -rq - rs;
      var q = rq - q0;
      var r = rr - r0;
      if (q < 0 || r < 0 || q >= width || r >= height) continue;
      var at = r * width + q;
      counts[at] += 1;
      if (inv[i] > 0) sums[at] += inv[i];
    }
    var bins = new Map();
    for (var b = 0; b < counts.length; b++) {
      if (!counts[b]) continue;
      var bq = q0 + (b % width);
      var br = r0 + Math.floor(b / width);
      bins.set(hexKey(bq, br), { q: bq, r: br, n: counts[b], inv: sums[b] });
    }
    this._grid = null;
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
    if (!this._map || !this.completed) return null;
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
      html = esc(this.c.name.at(hit.i));
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

/** Cells per side of the projects' grid index. */
var INDEX_SIDE = 256;
/** Leaflet's L.Projection.SphericalMercator.MAX_LATITUDE (the decoding worker has no Leaflet). */
var MAX_LATITUDE = 85.0511287798;

/** Degrees between the latitudes of mercatorPixels' table. */
var MERCATOR_STEP = 1e-4;

/**
 * Web Mercator pixels at zoom 0 (a 256 px world) of n points, as Leaflet projects them. When
 * the latitudes span few table steps for their number (a city's projects), y is interpolated
 * in a table of exact values MERCATOR_STEP apart: off by under 1e-9 px at zoom 0 (1e-3 px at
 * zoom 20) below 80°, for a tenth of the time of a logarithm and a sine per point.
 */
function mercatorPixels(lon, lat, n, maxLatitude) {
  var x = new Float64Array(n);
  var y = new Float64Array(n);
  var d2r = Math.PI / 180;
  var k = 64 / Math.PI;
  var merc = function (phi) {
    var sin = Math.sin(Math.max(Math.min(maxLatitude, phi), -maxLatitude) * d2r);
    return 128 - k * Math.log((1 + sin) / (1 - sin));
  };
  var lo = Infinity;
  var hi = -Infinity;
  var i;
  for (i = 0; i < n; i++) {
    x[i] = 128 + (lon[i] * 256) / 360;
    if (lat[i] < lo) lo = lat[i];
    if (lat[i] > hi) hi = lat[i];
  }
  lo = Math.max(lo, -80);
  hi = Math.min(hi, 80);
  var steps = Math.ceil((hi - lo) / MERCATOR_STEP) + 1;
  if (!(steps > 0 && steps < n / 8)) {
    for (i = 0; i < n; i++) y[i] = merc(lat[i]);
    return { x: x, y: y };
  }
  var table = new Float64Array(steps + 1);
  for (var s = 0; s <= steps; s++) table[s] = merc(lo + s * MERCATOR_STEP);
  var per = 1 / MERCATOR_STEP;
  for (i = 0; i < n; i++) {
    var t = (lat[i] - lo) * per;
    var at = Math.floor(t);
    if (at >= 0 && at < steps) y[i] = table[at] + (table[at + 1] - table[at]) * (t - at);
    else y[i] = merc(lat[i]); // outside ±80°, or NaN
  }
  return { x: x, y: y };
}

/**
 * A grid index of n points (x, y) (zoom-0 pixels): INDEX_SIDE² cells over their extent; the
 * points of cell k are order[start[k] .. start[k + 1]), in increasing index.
 */
function buildIndex(x, y, n) {
  var side = INDEX_SIDE;
  var x0 = Infinity;
  var y0 = Infinity;
  var x1 = -Infinity;
  var y1 = -Infinity;
  for (var i = 0; i < n; i++) {
    if (x[i] < x0) x0 = x[i];
    if (x[i] > x1) x1 = x[i];
    if (y[i] < y0) y0 = y[i];
    if (y[i] > y1) y1 = y[i];
  }
  var ix = {
    x0: x0,
    y0: y0,
    kx: n ? side / Math.max(x1 - x0, 1e-12) : 0,
    ky: n ? side / Math.max(y1 - y0, 1e-12) : 0,
    start: new Int32Array(side * side + 1),
    order: new Int32Array(n),
  };
  var cell = new Int32Array(n);
  for (var j = 0; j < n; j++) {
    var gx = Math.min(side - 1, Math.floor((x[j] - x0) * ix.kx));
    var gy = Math.min(side - 1, Math.floor((y[j] - y0) * ix.ky));
    cell[j] = gy * side + gx;
    ix.start[cell[j] + 1] += 1;
  }
  for (var k = 0; k < side * side; k++) ix.start[k + 1] += ix.start[k];
  var next = ix.start.slice(0, side * side);
  for (var m = 0; m < n; m++) ix.order[next[cell[m]]++] = m;
  return ix;
}

/** Cells of index ix that meet the box (x0, y0)–(x1, y1) in zoom-0 pixels. */
function indexCells(ix, x0, y0, x1, y1) {
  var side = INDEX_SIDE;
  var clamp = function (v) {
    return Math.max(0, Math.min(side - 1, Math.floor(v)));
  };
  var gx0 = clamp((x0 - ix.x0) * ix.kx);
  var gx1 = clamp((x1 - ix.x0) * ix.kx);
  var gy0 = clamp((y0 - ix.y0) * ix.ky);
  var gy1 = clamp((y1 - ix.y0) * ix.ky);
  var out = [];
  for (var gy = gy0; gy <= gy1; gy++) {
    for (var gx = gx0; gx <= gx1; gx++) out.push(gy * side + gx);
  }
  return out;
}

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
  // numbers first: the projects are painted while their names are still being unpacked (both
  // most likely already under way in the worker: see startDecode)
  var jobs;
  try {
    jobs = startDecode(d);
  } catch (err) {
    jobs = { numbers: Promise.reject(err), texts: null };
  }
  jobs.numbers
    .then(function (out) {
      // painted from the columns the first paint needs; the others (coordinates in degrees,
      // dates, distances), the grid index and the texts once this frame is painted
      var c = (d.columns = firstColumns(PAYLOAD_SCHEMA, d, out));
      var whole = out.rest.then(function (rest) {
        addRest(PAYLOAD_SCHEMA, d, c, out, rest);
      });
      if (map.options.crs === L.CRS.EPSG3857) {
        layer.setColumns(c, out);
        requestAnimationFrame(function () {
          setTimeout(releaseWorker, 0);
        });
      } else {
        // projected by Leaflet from the degrees: wait for them
        releaseWorker();
        whole = whole.then(function () {
          layer.setColumns(c, null);
        });
      }
      return whole
        .then(function () {
          layer.complete();
          return layer.indexed;
        })
        .then(function () {
          return jobs.texts;
        });
    })
    .then(function (out) {
      if (out) addTexts(PAYLOAD_SCHEMA, d.columns, textColumns(PAYLOAD_SCHEMA, d[PAYLOAD_SCHEMA.textLayout], out.raw));
    })
    .catch(function (err) {
      releaseWorker();
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
  if (!needle || !layer || !layer.loaded) return [];
  return layer.c.name.find(needle, limit || 10);
}

/**
 * Public: figures of the map's projects layer: projects (all in the page), shown (passing the
 * filters) and drawn (painted now: passing the filters and in view, as points or in bins; 0
 * when the layer is off).
 */
function projectSummary(s) {
  var layer = s && s.layers.projects;
  if (!layer) return { projects: 0, shown: 0, drawn: 0 };
  return { projects: layer.n, shown: layer.loaded ? layer.shownTotal.n : 0, drawn: drawnCount(s) };
}

/**
 * Public: ids of the projects whose name or id contains text (case-insensitive), largest
 * investment first, at most limit (default: all); a project without an id is given by name.
 */
function findProjects(s, text, limit) {
  var layer = s && s.layers.projects;
  var needle = String(text == null ? "" : text).trim().toLowerCase();
  if (!layer || !layer.loaded || !needle) return [];
  var most = limit > 0 ? limit : layer.n;
  var c = layer.c;
  var rows = c.name.find(needle, most).concat(c.id.find(needle, most));
  rows.sort(function (a, b) {
    return a - b;
  });
  var out = [];
  for (var k = 0; k < rows.length && out.length < most; k++) {
    if (k && rows[k] === rows[k - 1]) continue;
    out.push(c.id.at(rows[k]) || c.name.at(rows[k]));
  }
  return out;
}
