/* changes.js — the change layer of `parkmap compare`: new, stepped-up, stepped-back and removed
 * projects, each kind with its own symbol, a legend row and a check box that shows or hides it. */

var CHANGE_SHAPES = {
  circle: '<circle cx="7" cy="7" r="5.5" fill="{c}" stroke="#ffffff" stroke-width="1.5"/>',
  "triangle-up": '<polygon points="7,1 13.5,12.5 0.5,12.5" fill="{c}" stroke="#ffffff" stroke-width="1.2"/>',
  "triangle-down": '<polygon points="0.5,1.5 13.5,1.5 7,13" fill="{c}" stroke="#ffffff" stroke-width="1.2"/>',
  cross: '<path d="M2.5,2.5 L11.5,11.5 M11.5,2.5 L2.5,11.5" stroke="{c}" stroke-width="3" stroke-linecap="round"/>',
};

/** The SVG symbol of a kind of change (14 × 14 px); colours are ours, escaped all the same. */
function changeSymbol(kind) {
  var shape = CHANGE_SHAPES[kind.symbol] || CHANGE_SHAPES.circle;
  return (
    '<svg class="pm-change-symbol" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">' +
    shape.replace(/\{c\}/g, esc(kind.color)) +
    "</svg>"
  );
}

function changePopup(s, d, item) {
  var t = s.t;
  var kind = d.kinds[item.k];
  var html = '<div class="pm-popup pm-change"><h3>' + changeSymbol(kind) + " " + esc(item.name) + "</h3><table>";
  html += row(t.chg_layer, esc(kind.label));
  html += row(t.project_id, esc(item.id));
  if (item.park) html += row(t.park, esc(item.park));
  if (item.before) html += row(t.chg_before, esc(item.before));
  if (item.after) html += row(t.chg_after, esc(item.after));
  html += row(t.investment, withUnit(num(item.inv, 2), t.unit_100m, t));
  return html + "</table></div>";
}

/** The legend section: one row per kind with its symbol, label, count and a check box. */
function changeLegend(map, s, d, groups) {
  if (!s.legend) return;
  var box = s.legend.control.getContainer();
  if (box.querySelector('.pm-legend-section[data-layer="changes"]')) return;
  var part = section(box, d.title, "changes");
  d.kinds.forEach(function (kind) {
    var item = el("label", "pm-legend-row pm-change-row");
    item.setAttribute("data-change", kind.key);
    var check = el("input");
    check.type = "checkbox";
    check.checked = true;
    check.setAttribute("data-change", kind.key);
    check.addEventListener("change", function () {
      var group = groups[kind.key];
      if (check.checked) s.layers.changes.addLayer(group);
      else s.layers.changes.removeLayer(group);
    });
    item.appendChild(check);
    var symbol = el("span", "pm-change-swatch");
    symbol.innerHTML = changeSymbol(kind);
    item.appendChild(symbol);
    item.appendChild(el("span", "pm-legend-label", kind.label));
    item.appendChild(el("span", "pm-legend-count", "(" + kind.count + ")"));
    part.appendChild(item);
  });
  s.legend.sync();
}

/**
 * One marker per change, grouped by kind (new, up, back, removed): the layer is a feature
 * group of four groups, so a kind's check box in the legend adds or removes its group.
 */
function changesLayer(map, d) {
  var s = mapState(map);
  var layer = L.featureGroup();
  var groups = {};
  d.kinds.forEach(function (kind) {
    groups[kind.key] = L.featureGroup().addTo(layer);
  });
  d.items.forEach(function (item) {
    var kind = d.kinds[item.k];
    var marker = L.marker(item.at, {
      keyboard: false,
      icon: L.divIcon({
        className: "pm-change-marker pm-change-" + kind.key,
        html: changeSymbol(kind),
        iconSize: [14, 14],
        iconAnchor: [7, 7],
      }),
    });
    marker.bindTooltip(function () {
      return esc(kind.label) + " · " + esc(item.name);
    }, { direction: "top", className: "pm-tooltip" });
    marker.bindPopup(function () {
      return changePopup(s, d, item);
    }, { maxWidth: 320, className: "pm-popup-wrap" });
    marker.addTo(groups[kind.key]);
  });
  layer.kinds = groups;
  s.layers.changes = layer;
  s.data.changes = d;
  onReady(function () {
    changeLegend(map, s, d, groups);
  });
  return layer;
}

/**
 * The parks filled by the investment added between the snapshots (parkmap compare
 * --color-by-added). It takes the place of the density-coloured parks while it is on (one fill
 * per park, under the projects) and gives it back when switched off; its legend section shows
 * while it is on.
 */
function parksAddedLayer(map, d) {
  var s = mapState(map);
  var layer = canvasGeoJSON(s, d.geojson, function (props) {
    return { color: "#662506", weight: 1.5, opacity: 0.9, fillColor: d.parks[props.i].color, fillOpacity: 1 };
  });
  layer.bindTooltip(
    function (target) {
      var p = d.parks[target.feature.properties.i];
      return "<b>" + esc(p.name) + "</b><br>" + esc(d.title) + " " + esc(p.added == null ? s.t.unknown : num(p.added, 2));
    },
    { sticky: true, className: "pm-tooltip" }
  );
  layer.on("add", function () {
    if (s.layers.parks && map.hasLayer(s.layers.parks)) map.removeLayer(s.layers.parks);
    layer.bringToBack();
  });
  layer.on("remove", function () {
    // After the layer control's click has run: it removes every unchecked layer, and the
    // density parks' box is still unchecked while it runs.
    setTimeout(function () {
      if (s.layers.parks && !map.hasLayer(s.layers.parks) && !map.hasLayer(layer)) map.addLayer(s.layers.parks);
    }, 0);
  });
  s.layers.parksAdded = layer;
  s.data.parksAdded = d;
  onReady(function () {
    addLegendSections(map, { sections: [{ key: "parksAdded", title: d.title, entries: d.entries }] });
  });
  return layer;
}
