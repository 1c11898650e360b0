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
        // labels in significant figures from Python (density.tick_labels)
        var label = st.label != null ? st.label : num(st.value, st.value < 10 ? 2 : 0);
        ticks.appendChild(el("span", null, label));
      });
      dens.appendChild(ticks);
      if (cfg.density.note) dens.appendChild(el("div", "pm-legend-note", cfg.density.note));
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
      if (key === "aggregate") hidden = !isAggregated(s);
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
