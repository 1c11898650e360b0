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
    makePane(map, "pmProjects", 450);
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
    if (c.warn[i]) html += '<div class="pm-warn">' + esc(t.warnings) + "：" + esc(c.warn[i]) + "</div>";
    return html + "</div>";
  }

  function isoDay(day) {
    return new Date(day * 864e5).toISOString().slice(0, 10);
  }

  function invOf(c, i) {
    return c.inv[i] < 0 ? null : c.inv[i];
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

  // ---------------------------------------------------------------- readiness

  // The project arrays are unpacked asynchronously (DecompressionStream). parkmap.ready turns
  // true, and "parkmap:ready" is dispatched on document, once every layer has its data and the
  // page has been parsed.
  var pending = 0;
  var parsed = false;
  pm.ready = false;
  function settle() {
    if (pending === 0 && parsed && !pm.ready) {
      pm.ready = true;
      // ms since navigation start: data ready, then the first frame painted after it
      pm.timing = { ready: performance.now(), firstFrame: null };
      requestAnimationFrame(function () {
        pm.timing.firstFrame = performance.now();
      });
      document.dispatchEvent(new Event("parkmap:ready"));
    }
  }
  onReady(function () {
    parsed = true;
    settle();
  });

  /** base64 → gunzip → JSON, with the browser's own DecompressionStream (no request made). */
  function unpack(b64) {
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function filled(n, value) {
    var out = new Array(n);
    for (var i = 0; i < n; i++) out[i] = value;
    return out;
  }

  function sparse(n, obj, divisor, empty) {
    var out = filled(n, empty);
    if (obj) {
      Object.keys(obj).forEach(function (k) {
        out[+k] = divisor ? obj[k] / divisor : obj[k];
      });
    }
    return out;
  }

  /** The packed columns as the runtime uses them (see payloads.pack_projects). */
  function columns(d, raw) {
    var n = d.n;
    var c = {
      lon: new Float64Array(n),
      lat: new Float64Array(n),
      inv: new Float64Array(n),
      year: new Int16Array(n),
      st: raw.st,
      ind: raw.ind,
      park: raw.park,
      near: raw.near,
      name: raw.name,
      id: raw.id || filled(n, ""),
      day: raw.day || filled(n, -1),
      km: sparse(n, raw.km, 10, null),
      warn: sparse(n, raw.warn, 0, ""),
    };
    // coordinates as the file gave them (converted rows only), written when a popup opens
    c.orig = function (i) {
      if (!raw.osys || raw.osys[i] < 0) return "";
      var x = (d.x0 + raw.x[i] + raw.ox[i]) / 1e6;
      var y = (d.y0 + raw.y[i] + raw.oy[i]) / 1e6;
      return x.toFixed(6) + ", " + y.toFixed(6) + " (" + d.origSystems[raw.osys[i]] + ")";
    };
    for (var i = 0; i < n; i++) {
      c.lon[i] = (d.x0 + raw.x[i]) / 1e6;
      c.lat[i] = (d.y0 + raw.y[i]) / 1e6;
      c.inv[i] = raw.inv[i] < 0 ? -1 : raw.inv[i] / 1e4;
      c.year[i] = c.day[i] >= 0 ? new Date(c.day[i] * 864e5).getUTCFullYear() : 0;
    }
    return c;
  }

  // ---------------------------------------------------------------- projects on one canvas

  var SQRT3 = Math.sqrt(3);

  /** Whether a mouse event is on the map itself, not on a control, popup or marker. */
  function onSurface(e) {
    var target = e.target;
    return !(target && target.closest && target.closest(".leaflet-control-container, .leaflet-popup, .leaflet-marker-pane"));
  }
  var CELL = 32; // px, hit-test grid

  /**
   * All projects painted on one canvas from the column arrays. Tooltip and popup are built
   * when they open. When more than d.aggregate.above filtered projects are in view, they are
   * binned into screen hexagons (d.aggregate.radius px) coloured by count with fixed breaks.
   */
  var ProjectsLayer = L.Layer.extend({
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
      for (var i = 0; i < n; i++) {
        var ok = true;
        if (f) {
          var v = c.inv[i];
          ok =
            f.status[c.st[i]] &&
            f.industry[c.ind[i]] &&
            (c.day[i] < 0 ? f.noDate : f.year == null || c.year[i] <= f.year) &&
            (v < 0 ? f.unknownInv : (f.min == null || v >= f.min) && (f.max == null || v <= f.max));
        }
        this.pass[i] = ok ? 1 : 0;
        if (ok) {
          total += 1;
          if (c.inv[i] > 0) inv += c.inv[i];
        }
      }
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
      var grid = new Map();
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
        var key = Math.floor(y / CELL + 1) * 65536 + Math.floor(x / CELL + 1);
        var list = grid.get(key);
        if (list) list.push(i);
        else grid.set(key, [i]);
      }
      this._grid = grid;
    },

    _axial: function (gx, gy) {
      var R = this._d.aggregate.radius;
      var q = ((SQRT3 / 3) * gx - gy / 3) / R;
      var r = ((2 / 3) * gy) / R;
      var s = -q - r;
      var rq = Math.round(q);
      var rr = Math.round(r);
      var rs = Math.round(s);
      var dq = Math.abs(rq - q);
      var dr = Math.abs(rr - r);
      var ds = Math.abs(rs - s);
      if (dq > dr && dq > ds) rq = -rr - rs;
      else if (dr > ds) rr = -rq - rs;
      return [rq, rr];
    },

    _drawBins: function (ctx, visible) {
      var agg = this._d.aggregate;
      var R = agg.radius;
      var bins = new Map();
      this._grid = null;
      for (var k = 0; k < visible.length; k++) {
        var i = visible[k];
        var a = this._axial(this.px[i] + this._min.x, this.py[i] + this._min.y);
        var key = a[0] + "," + a[1];
        var bin = bins.get(key);
        if (!bin) bins.set(key, (bin = { q: a[0], r: a[1], n: 0, inv: 0 }));
        bin.n += 1;
        if (this.c.inv[i] > 0) bin.inv += this.c.inv[i];
      }
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#ffffff";
      bins.forEach(function (bin) {
        var cx = R * SQRT3 * (bin.q + bin.r / 2) - this._min.x;
        var cy = R * 1.5 * bin.r - this._min.y;
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
      }, this);
      this._bins = bins;
    },

    /** The project (or bin) under a container point, top-most first; null when none. */
    hitTest: function (p) {
      if (!this._map || !this.loaded) return null;
      if (this._bins) {
        var a = this._axial(p.x + this._min.x, p.y + this._min.y);
        var bin = this._bins.get(a[0] + "," + a[1]);
        if (!bin) return null;
        var R = this._d.aggregate.radius;
        var centre = L.point(R * SQRT3 * (bin.q + bin.r / 2), R * 1.5 * bin.r);
        return { bin: bin, latlng: this._map.unproject(centre, this._map.getZoom()) };
      }
      if (!this._grid) return null;
      var best = -1;
      var gx = Math.floor(p.x / CELL + 1);
      var gy = Math.floor(p.y / CELL + 1);
      for (var y = gy - 1; y <= gy + 1; y++) {
        for (var x = gx - 1; x <= gx + 1; x++) {
          var list = this._grid.get(y * 65536 + x);
          if (!list) continue;
          for (var k = 0; k < list.length; k++) {
            var i = list[k];
            var r = this.radiusOf(i) + 3;
            var dx = this.px[i] - p.x;
            var dy = this.py[i] - p.y;
            if (dx * dx + dy * dy <= r * r && i > best) best = i;
          }
        }
      }
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
  });

  /** Projects from the packed column arrays, painted on one canvas. */
  pm.projectsLayer = function (map, d) {
    var s = state(map);
    s.data.statusColors = d.statusColors;
    var layer = new ProjectsLayer(s, d);
    s.layers.projects = layer;
    s.data.projects = d;
    pending += 1;
    unpack(d.packed)
      .then(function (raw) {
        d.columns = columns(d, raw);
        layer.setColumns(d.columns);
      })
      .catch(function (err) {
        console.error("parkmap: could not unpack the projects: " + err);
      })
      .then(function () {
        pending -= 1;
        settle();
      });
    return layer;
  };

  /** Projects passing the filters inside the view (as points or in bins); 0 when the layer is off. */
  pm.drawnCount = function (map) {
    var layer = pm.state(map).layers.projects;
    return layer && layer._map ? layer.inView : 0;
  };

  /** Whether the projects are shown as hexagon bins (too many in view) rather than points. */
  pm.aggregated = function (map) {
    var layer = pm.state(map).layers.projects;
    return Boolean(layer && layer._map && layer.aggregated);
  };

  /** Zoom to project i, show it and open its popup. */
  pm.showProject = function (i, map) {
    var s = pm.state(map);
    var layer = s.layers.projects;
    if (!layer._map) s.map.addLayer(layer);
    s.map.setView([layer.c.lat[i], layer.c.lon[i]], Math.max(s.map.getZoom(), 16), { animate: false });
    return layer.openPopup(i);
  };

  /** Indexes of projects whose name contains text (case-insensitive), at most limit. */
  pm.search = function (text, limit, map) {
    var layer = pm.state(map).layers.projects;
    var needle = String(text || "").trim().toLowerCase();
    if (!needle || !layer.loaded) return [];
    if (!layer.lowerNames) layer.lowerNames = layer.c.name.map(function (x) { return String(x).toLowerCase(); });
    var out = [];
    for (var i = 0; i < layer.n && out.length < (limit || 10); i++) {
      if (layer.lowerNames[i].indexOf(needle) >= 0) out.push(i);
    }
    return out;
  };

  /** Investment per hexagon cell (cells from parkmap.density.hex_grid), fixed class breaks. */
  pm.hexLayer = function (map, d) {
    var s = state(map);
    var layer = L.geoJSON(d.geojson, {
      renderer: s.renderer,
      style: function (f) {
        var c = f.properties.c;
        return {
          color: "#2f5d3a",
          weight: 0.7,
          opacity: 0.7,
          fill: true,
          fillColor: c >= 0 ? d.colors[c] : "#ffffff",
          fillOpacity: c >= 0 ? 0.7 : 0.05,
        };
      },
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
  };

  // ---------------------------------------------------------------- cluster analysis

  /** The p-value as shown: three decimals, "< 0.001" below that. */
  function pValue(p) {
    if (p == null || !isFinite(p)) return "–";
    return p < 0.001 ? "< 0.001" : num(p, 3);
  }
  pm.pValue = pValue;

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
    html += row(t.gi_z, p.z == null ? "–" : esc(num(p.z, 2)));
    html += row(t.gi_p, esc(pValue(p.p)));
    html += row(t.gi_confidence, p.b ? esc(conf + "%") : esc(t.gi_ns));
    html += row(t.lisa, esc(t["lisa_" + p.q] || t.lisa_ns));
    return html;
  }

  function hotspotTitle(s, d, p) {
    return swatch(d.colors[p.b + 3]) + esc(binLabel(s.t, p.b, d.confidence[p.b + 3]));
  }

  /**
   * Hexagon cells coloured by their Getis–Ord Gi* bin: reds hot, blues cold, cells that are
   * not significant only faintly filled. Tooltip and popup are built when they open.
   */
  pm.hotspotsLayer = function (map, d) {
    var s = state(map);
    var layer = L.geoJSON(d.geojson, {
      renderer: s.renderer,
      style: function (f) {
        var b = f.properties.b;
        if (!b) {
          return { color: "#9e9e9e", weight: 0.5, opacity: 0.6, fill: true,
            fillColor: d.colors[3], fillOpacity: 0.15 };
        }
        return { color: "#ffffff", weight: 0.8, opacity: 0.9, fill: true,
          fillColor: d.colors[b + 3], fillOpacity: 0.78 };
      },
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
    s.layers.hotspots = layer;
    s.data.hotspots = d;
    return layer;
  };

  function clusterLabel(t, c) {
    var html = fill(t.cluster_label, {
      id: esc(c.id),
      n: esc(num(c.n, 0)),
      inv: c.inv == null ? esc(t.unknown) : esc(num(c.inv, 1)),
    });
    if (c.industry) html += " · " + esc(c.industry);
    return html;
  }
  pm.clusterLabel = function (c, map) {
    return clusterLabel(pm.state(map).t, c);
  };

  function clusterPopup(s, c) {
    var t = s.t;
    var html = '<div class="pm-popup pm-cluster"><h3>' + fill(t.cluster, { id: esc(c.id) }) + "</h3><table>";
    html += row(t.projects, esc(num(c.n, 0)));
    var inv = withUnit(num(c.inv, 2), t.unit_100m, t);
    if (c.unknown) inv += "（" + fill(t.cluster_unknown_inv, { n: esc(c.unknown) }) + "）";
    html += row(t.investment, inv);
    html += row(t.hull_area, withUnit(num(c.area, 2), t.unit_area, t));
    html += row(
      t.dominant_industry,
      c.industry ? esc(c.industry) + " (" + fill(t.dominant_projects, { n: esc(c.industryN) }) + ")" : "–"
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
  pm.clustersLayer = function (map, d) {
    var s = state(map);
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
  };

  /** Vector paths (polygons, lines, circles) a parkmap layer has on the map now. */
  pm.layerCount = function (key, map) {
    var s = pm.state(map);
    var layer = s && s.layers[key];
    if (!layer || !s.map.hasLayer(layer)) return 0;
    var n = 0;
    (function walk(l) {
      if (l instanceof L.Path) {
        if (s.map.hasLayer(l)) n += 1;
      } else if (l.eachLayer) {
        l.eachLayer(walk);
      }
    })(layer);
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
      if (cfg.hexes) {
        var hexes = section(box, cfg.hexes.title, "hexes");
        cfg.hexes.entries.forEach(function (e) {
          hexes.appendChild(legendRow(e.color, e.label, e.count));
        });
      }
      var agg = s.data.projects && s.data.projects.aggregate;
      if (agg) {
        var bins = section(box, t.legend_aggregate, "aggregate");
        agg.colors.forEach(function (color, k) {
          var lo = k ? agg.breaks[k - 1] + 1 : 1;
          var label = k < agg.breaks.length ? lo + "–" + agg.breaks[k] : "> " + agg.breaks[k - 1];
          bins.appendChild(legendRow(color, label));
        });
      }
      return box;
    });
    function sync() {
      var parts = ctl.getContainer().querySelectorAll("[data-layer]");
      Array.prototype.forEach.call(parts, function (part) {
        var key = part.getAttribute("data-layer");
        var hidden;
        if (key === "aggregate") hidden = !pm.aggregated(map);
        else {
          var layer = s.layers[key];
          hidden = layer && !map.hasLayer(layer);
        }
        part.style.display = hidden ? "none" : "";
      });
    }
    map.on("layeradd layerremove pm:redraw", sync);
    onReady(sync);
    s.legend = { control: ctl, sync: sync };
    return ctl;
  };

  /**
   * More legend sections for layers added after the map was built (cfg.sections: key, title,
   * entries of label, color, count, dashed). Each is shown while s.layers[key] is on the map.
   */
  pm.addLegendSections = function (map, cfg) {
    var s = state(map);
    if (!s.legend) return null;
    var box = s.legend.control.getContainer();
    cfg.sections.forEach(function (sec) {
      var part = section(box, sec.title, sec.key);
      sec.entries.forEach(function (e) {
        var item = legendRow(e.color, e.label, e.count);
        if (e.dashed) {
          var sw = item.firstChild;
          sw.className = "pm-swatch pm-dashed";
          sw.style.background = "transparent";
          sw.style.borderColor = e.color;
        }
        part.appendChild(item);
      });
    });
    s.legend.sync();
    return s.legend.control;
  };

  // ---------------------------------------------------------------- filters and search

  function checkbox(label, checked, className, color) {
    var item = el("label", "pm-check");
    var box = el("input", className);
    box.type = "checkbox";
    box.checked = checked;
    item.appendChild(box);
    if (color) {
      var sw = el("span", "pm-swatch");
      sw.style.background = color;
      item.appendChild(sw);
    }
    item.appendChild(el("span", null, label));
    return item;
  }

  function numberInput(className, placeholder) {
    var input = el("input", className);
    input.type = "number";
    input.min = "0";
    input.step = "any";
    input.placeholder = placeholder;
    return input;
  }

  function fieldset(box, title, key) {
    var part = el("fieldset", "pm-fieldset");
    part.setAttribute("data-filter", key);
    part.appendChild(el("legend", null, title));
    box.appendChild(part);
    return part;
  }

  /**
   * One collapsible panel: search, status, industry (top industries + other), signed year
   * (cumulative), investment range. Every change refilters the projects layer.
   */
  /** Milliseconds per year when the year slider plays. */
  pm.PLAY_STEP_MS = 800;

  pm.addFilters = function (map, cfg) {
    var s = state(map);
    var t = s.t;
    var d = s.data.projects;
    var layer = s.layers.projects;
    if (!d || !layer) return null;
    var ui = {};
    var ctl = control(map, "topleft", function () {
      var box = el("details", "pm-box pm-filters");
      box.open = true;
      box.appendChild(el("summary", null, t.filters));

      var search = el("div", "pm-search-box");
      ui.search = el("input", "pm-search");
      ui.search.type = "search";
      ui.search.placeholder = t.search;
      ui.search.setAttribute("aria-label", t.search);
      ui.results = el("ul", "pm-results");
      search.appendChild(ui.search);
      search.appendChild(ui.results);
      box.appendChild(search);

      var status = fieldset(box, t.filter_status, "status");
      ui.status = d.statuses.map(function (name, k) {
        var item = checkbox(t["status_" + name], true, null, d.statusColors[k]);
        status.appendChild(item);
        return item.firstChild;
      });

      var industry = fieldset(box, t.filter_industry, "industry");
      var groups = d.topIndustries.slice();
      if (d.hasOther) groups.push(t.other);
      ui.groupOf = d.industries.map(function (name) {
        var k = d.topIndustries.indexOf(name);
        return k >= 0 ? k : d.topIndustries.length;
      });
      ui.industry = groups.map(function (name, k) {
        var color = k < d.topIndustries.length ? d.industryColors[d.industries.indexOf(name)] : null;
        var item = checkbox(name, true, null, d.colorBy === "industry" ? color : null);
        industry.appendChild(item);
        return item.firstChild;
      });

      if (cfg.years.length) {
        var years = fieldset(box, t.filter_year, "year");
        var line = el("div", "pm-year-line");
        ui.year = el("input", "pm-year");
        ui.year.type = "range";
        ui.year.min = String(cfg.years[0]);
        ui.year.max = String(cfg.years[1]);
        ui.year.step = "1";
        ui.year.value = String(cfg.years[1]);
        ui.yearLabel = el("span", "pm-year-label", String(cfg.years[1]));
        // Plays the years from the first: projects and the shown total build up year by year.
        ui.play = el("button", "pm-play", "\u25b6");
        ui.play.type = "button";
        ui.play.title = t.filter_play;
        ui.play.setAttribute("aria-label", t.filter_play);
        line.appendChild(ui.play);
        line.appendChild(ui.year);
        line.appendChild(ui.yearLabel);
        years.appendChild(line);
        var noDate = checkbox(t.filter_no_date, true, "pm-nodate");
        ui.noDate = noDate.firstChild;
        if (cfg.hasUndated) years.appendChild(noDate);
      }

      var inv = fieldset(box, t.filter_investment, "investment");
      var range = el("div", "pm-range");
      ui.min = numberInput("pm-inv-min", t.filter_min);
      ui.max = numberInput("pm-inv-max", t.filter_max);
      range.appendChild(ui.min);
      range.appendChild(el("span", null, "–"));
      range.appendChild(ui.max);
      inv.appendChild(range);
      var unknown = checkbox(t.filter_unknown_inv, true, "pm-inv-unknown");
      ui.unknown = unknown.firstChild;
      if (cfg.hasUnknownInvestment) inv.appendChild(unknown);

      ui.shown = el("div", "pm-shown");
      box.appendChild(ui.shown);
      return box;
    });

    function numberOrNull(input) {
      var v = input.value.trim();
      return v === "" || !isFinite(+v) ? null : +v;
    }

    function current() {
      var status = ui.status.map(function (b) {
        return b.checked;
      });
      var industry = ui.groupOf.map(function (g) {
        return ui.industry[g] ? ui.industry[g].checked : true;
      });
      if (ui.year) ui.yearLabel.textContent = ui.year.value;
      return {
        status: status,
        industry: industry,
        year: ui.year ? +ui.year.value : null,
        noDate: ui.noDate ? ui.noDate.checked : true,
        min: numberOrNull(ui.min),
        max: numberOrNull(ui.max),
        unknownInv: ui.unknown.checked,
      };
    }

    function apply() {
      layer.applyFilter(current());
    }

    function summary() {
      var total = layer.shownTotal;
      ui.shown.textContent = t.filter_shown
        .replace("{n}", num(total.n, 0))
        .replace("{inv}", num(total.inv, 2));
    }

    var playing = null;
    function stopPlaying() {
      if (playing === null) return;
      clearInterval(playing);
      playing = null;
      ui.play.textContent = "\u25b6";
      ui.play.classList.remove("pm-playing");
    }
    function step() {
      if (+ui.year.value >= +ui.year.max) return stopPlaying();
      ui.year.value = String(+ui.year.value + 1);
      apply();
      if (+ui.year.value >= +ui.year.max) stopPlaying();
    }
    if (ui.play) {
      ui.play.addEventListener("click", function () {
        if (playing !== null) return stopPlaying();
        if (+ui.year.value >= +ui.year.max) {
          ui.year.value = ui.year.min;
          apply();
        }
        ui.play.textContent = "\u23f8";
        ui.play.classList.add("pm-playing");
        playing = setInterval(step, pm.PLAY_STEP_MS);
      });
      ui.year.addEventListener("input", stopPlaying); // the hand on the slider wins
    }

    var box = ctl.getContainer();
    box.addEventListener("change", function (e) {
      if (e.target !== ui.search) apply();
    });
    box.addEventListener("input", function (e) {
      if (e.target === ui.year || e.target === ui.min || e.target === ui.max) apply();
    });
    map.on("pm:filtered", summary);

    // The list stays as it is: Leaflet decides whether a click belongs to a control by walking
    // up from the clicked element, so removing the button here would let the map close the popup.
    function choose(i) {
      pm.showProject(i, map);
    }

    function listMatches() {
      ui.results.textContent = "";
      var text = ui.search.value;
      if (!text.trim()) return [];
      var found = pm.search(text, 10, map);
      if (!found.length) ui.results.appendChild(el("li", "pm-none", t.search_none));
      found.forEach(function (i) {
        var item = el("li");
        var button = el("button", "pm-result", layer.c.name[i]);
        button.type = "button";
        button.addEventListener("click", function () {
          choose(i);
        });
        item.appendChild(button);
        ui.results.appendChild(item);
      });
      return found;
    }
    ui.search.addEventListener("input", listMatches);
    ui.search.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();
      var found = listMatches();
      if (found.length) choose(found[0]);
    });
    s.filters = { apply: apply, current: current, ui: ui };
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
