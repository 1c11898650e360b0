/* legend.js — the legend: park classes, marker colours and sizes, density ramp, grid, bins,
 * and sections added later (cluster layers). A section shows while its layer is on. */

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

/** A note shown only while a filter is on (see parkCounts in addLegend). */
function filteredNote(text) {
  var note = el("div", "pm-legend-note pm-filtered-note", text);
  note.style.display = "none";
  return note;
}

function section(box, title, layerKey) {
  var part = el("div", "pm-legend-section");
  if (layerKey) part.setAttribute("data-layer", layerKey);
  part.appendChild(el("h4", null, title));
  box.appendChild(part);
  return part;
}

/** Legend: park classes, marker colours, marker sizes and the density ramp. */
function addLegend(map, cfg) {
  var s = mapState(map);
  var t = s.t;
  var ctl = control(map, "bottomright", function () {
    var box = el("div", "pm-box pm-legend");
    var parks = section(box, cfg.parks.title, "parks");
    cfg.parks.entries.forEach(function (e) {
      var item = legendRow(e.color, e.label, e.count);
      if (e.cls != null) {
        item.setAttribute("data-cls", String(e.cls));
        if (e.count == null) item.appendChild(el("span", "pm-legend-count"));
      }
      parks.appendChild(item);
    });
    parks.appendChild(el("div", "pm-legend-note", cfg.parks.scheme));
    // Shown while a filter is on: the counts and colours follow it, the breaks do not.
    parks.appendChild(filteredNote(t.classes_all_projects));
    parks.appendChild(filteredNote("")).className += " pm-partial-note";

    var markers = section(box, cfg.markers.title, "projects");
    cfg.markers.entries.forEach(function (e) {
      var item = legendRow(e.color, e.label, e.count);
      if (e.tally) item.setAttribute("data-tally", JSON.stringify(e.tally));
      markers.appendChild(item);
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
        // labels in significant figures from Python (density.tick_labels)
        var label = st.label != null ? st.label : num(st.value, st.value < 10 ? 2 : 0);
        ticks.appendChild(el("span", null, label));
      });
      dens.appendChild(ticks);
      if (cfg.density.note) dens.appendChild(el("div", "pm-legend-note", cfg.density.note));
      // a pre-rendered image: it does not follow the filters, and says so while one is on
      dens.appendChild(filteredNote(t.legend_all_projects));
    }
    if (cfg.hexes) {
      var hexes = section(box, cfg.hexes.title, "hexes");
      // rows in class order (build._hex_legend); their counts follow the filters
      cfg.hexes.entries.forEach(function (e, k) {
        var item = legendRow(e.color, e.label, e.count);
        item.setAttribute("data-hex-cls", String(k));
        hexes.appendChild(item);
      });
      hexes.appendChild(filteredNote(t.filtered_figures)).className += " pm-hex-note";
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
      if (key === "aggregate") hidden = !isAggregated(s);
      else {
        var layer = s.layers[key];
        hidden = layer && !map.hasLayer(layer);
      }
      part.style.display = hidden ? "none" : "";
    });
  }
  /** Park class counts and the "filtered" notes from the parks' figures now (layers.js). */
  function parkCounts() {
    var f = s.parkFigures;
    if (!f) return;
    var box = ctl.getContainer();
    var empty = cfg.parks.noProjects;
    if (f.counts[NO_PROJECTS] && empty && !box.querySelector('[data-cls="' + NO_PROJECTS + '"]')) {
      // a filter left a park without projects: its row comes after the classes
      var part = box.querySelector('[data-layer="parks"]');
      var item = legendRow(empty.color, empty.label, 0);
      item.setAttribute("data-cls", String(NO_PROJECTS));
      part.insertBefore(item, part.querySelector(".pm-legend-note"));
    }
    Array.prototype.forEach.call(box.querySelectorAll("[data-cls]"), function (item) {
      var n = f.counts[item.getAttribute("data-cls")] || 0;
      item.querySelector(".pm-legend-count").textContent = "(" + n + ")";
    });
    // marker rows: passing projects of their status / industries (or all passing ones)
    var tally = s.tally;
    var shown = s.layers.projects && s.layers.projects.shownTotal;
    Array.prototype.forEach.call(box.querySelectorAll("[data-tally]"), function (item) {
      var spec = JSON.parse(item.getAttribute("data-tally"));
      var n = 0;
      if (spec[0] === "all") n = shown ? shown.n : 0;
      else if (tally) {
        spec[1].forEach(function (k) {
          n += tally[spec[0]][k];
        });
      }
      item.querySelector(".pm-legend-count").textContent = "(" + n + ")";
    });
    var partial = box.querySelector(".pm-partial-note");
    if (partial) partial.textContent = s.partialProjects ? t.filtered_drawn_only : "";
    var hexCounts = s.hexFigures && s.hexFigures.counts;
    Array.prototype.forEach.call(box.querySelectorAll("[data-hex-cls]"), function (item) {
      var count = item.querySelector(".pm-legend-count");
      if (count && hexCounts) count.textContent = "(" + (hexCounts[item.getAttribute("data-hex-cls")] || 0) + ")";
    });
    var hexNote = box.querySelector(".pm-hex-note");
    if (hexNote) {
      hexNote.textContent = t.filtered_figures + (s.partialProjects ? " · " + t.filtered_drawn_only : "");
    }
    Array.prototype.forEach.call(box.querySelectorAll(".pm-filtered-note"), function (note) {
      note.style.display = f.filtered ? "" : "none";
    });
  }
  map.on("layeradd layerremove pm:redraw", sync);
  map.on("pm:parks", parkCounts);
  onReady(sync);
  onReady(parkCounts);
  s.legend = { control: ctl, sync: sync, parkCounts: parkCounts };
  return ctl;
}

/**
 * More legend sections for layers added after the map was built (cfg.sections: key, title,
 * entries of label, color, count, dashed). Each is shown while s.layers[key] is on the map.
 */
function addLegendSections(map, cfg) {
  var s = mapState(map);
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
}
