/* controls.js — Leaflet controls (title, full screen, note), Leaflet's own words in the page's
 * language, and the interactive parts of the filter panel: the search box (parks and
 * projects), the year slider's play button, and the panel's height (fitPanel). */

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

/** Title and summary line, top left, above the zoom buttons; also puts Leaflet's own words
 * (zoom buttons, layer-control toggle, popup close button) into the page's language. */
function addTitle(map, cfg) {
  var ctl = control(map, "topleft", function () {
    var box = el("div", "pm-box pm-title");
    box.appendChild(el("h1", null, cfg.title));
    if (cfg.summary) box.appendChild(el("p", null, cfg.summary));
    return box;
  });
  var node = ctl.getContainer();
  node.parentNode.insertBefore(node, node.parentNode.firstChild);
  localiseLeaflet(map);
  return ctl;
}

/** Leaflet's built-in titles and labels are English: set them from the page's words. The layer
 * control is made after the title (folium adds it last), so its toggle is named once the
 * document is parsed; a popup's close button when the popup opens. */
function localiseLeaflet(map) {
  var t = mapState(map).t;
  var box = map.getContainer();
  function name(selector, word) {
    if (!word) return;
    box.querySelectorAll(selector).forEach(function (node) {
      node.title = word;
      node.setAttribute("aria-label", word);
    });
  }
  function all() {
    name(".leaflet-control-zoom-in", t.zoom_in);
    name(".leaflet-control-zoom-out", t.zoom_out);
    name(".leaflet-control-layers-toggle", t.layers);
    name(".leaflet-popup-close-button", t.close);
  }
  all();
  onReady(all);
  map.on("popupopen layeradd", all);
}

/** A full-screen button using the browser's Fullscreen API. */
function addFullscreen(map) {
  var t = mapState(map).t;
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
}

/** Data note, bottom left: one line each. */
function addNote(map, cfg) {
  return control(map, "bottomleft", function () {
    var box = el("div", "pm-box pm-note");
    cfg.lines.forEach(function (line) {
      box.appendChild(el("div", null, line));
    });
    return box;
  });
}

/**
 * The play button of the year slider (ui.play, ui.year): steps the slider a year every
 * runtime.playStepMs and refilters (apply); a hand on the slider stops it.
 */
function wireYearPlay(ui, apply) {
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
  ui.play.addEventListener("click", function () {
    if (playing !== null) return stopPlaying();
    if (+ui.year.value >= +ui.year.max) {
      ui.year.value = ui.year.min;
      apply();
    }
    ui.play.textContent = "\u23f8";
    ui.play.classList.add("pm-playing");
    playing = setInterval(step, runtime.playStepMs);
  });
  ui.year.addEventListener("input", stopPlaying); // the hand on the slider wins
}

/** Project zoom after a search: the viewport's width spans about this many metres. */
var SEARCH_SPAN_M = 2000;

/**
 * The zoom at which a map width px wide spans about span metres at latitude lat: Web
 * Mercator has 40,075,016.686 · cos(lat) / 256 metres per pixel at zoom 0, halved at each
 * zoom. Rounded to the nearest whole zoom, so the span lies between span / √2 and span · √2.
 */
function spanZoom(lat, px, span) {
  var perPixel = (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 256;
  return Math.round(Math.log(perPixel * px / span) / Math.LN2);
}

/** Indexes of parks whose name contains text (case-insensitive), at most limit. */
function searchParks(s, text, limit) {
  var parks = s.data.parks && s.data.parks.parks;
  var needle = String(text || "").trim().toLowerCase();
  if (!parks || !needle) return [];
  var out = [];
  for (var i = 0; i < parks.length && out.length < limit; i++) {
    if (String(parks[i].name).toLowerCase().indexOf(needle) >= 0) out.push(i);
  }
  return out;
}

/** Fit the map to park i (its outline, with a margin) and open its popup; the popup. */
function showPark(s, i) {
  var parks = s.layers.parks;
  if (!parks) return null;
  if (!s.map.hasLayer(parks)) s.map.addLayer(parks);
  var hit = null;
  parks.eachLayer(function (l) {
    if (l.feature && l.feature.properties.i === i) hit = l;
  });
  if (!hit) return null;
  s.map.fitBounds(hit.getBounds(), { padding: [24, 24], animate: false });
  // The popup is bound to the whole layer: open one of this park's own at its centre.
  return L.popup({ maxWidth: 360, className: "pm-popup-wrap" })
    .setLatLng(hit.getBounds().getCenter())
    .setContent(parkPopup(s, s.data.parks.parks, i))
    .openOn(s.map);
}

/** Centre the map on project i at the zoom where the view spans about SEARCH_SPAN_M, and
 * open its popup. */
function showProject(s, i) {
  var layer = s.layers.projects;
  var map = s.map;
  if (!layer._map) map.addLayer(layer);
  var lat = layer.c.lat[i];
  var zoom = spanZoom(lat, map.getSize().x, SEARCH_SPAN_M);
  zoom = Math.max(map.getMinZoom(), Math.min(zoom, map.getMaxZoom()));
  map.setView([lat, layer.c.lon[i]], zoom, { animate: false });
  return layer.openPopup(i);
}

/**
 * The search box (ui.search) and its list of matches (ui.results): typing lists up to five
 * parks, then up to ten projects, whose name contains the text; a park fits the map to its
 * outline, a project centres it about 2 km wide (Enter: the first match).
 */
function wireSearch(s, ui) {
  var t = s.t;
  var layer = s.layers.projects;
  // The list stays as it is: Leaflet decides whether a click belongs to a control by walking
  // up from the clicked element, so removing the button here would let the map close the popup.
  function item(label, className, title, go) {
    var li = el("li");
    var button = el("button", className, label);
    button.type = "button";
    if (title) button.title = title;
    button.addEventListener("click", go);
    li.appendChild(button);
    ui.results.appendChild(li);
  }

  function listMatches() {
    ui.results.textContent = "";
    var text = ui.search.value;
    if (!text.trim()) return [];
    var found = [];
    searchParks(s, text, 5).forEach(function (i) {
      var go = function () {
        showPark(s, i);
      };
      found.push(go);
      item(s.data.parks.parks[i].name, "pm-result pm-result-park", t.park, go);
    });
    searchProjects(s, text, 10).forEach(function (i) {
      var go = function () {
        showProject(s, i);
      };
      found.push(go);
      item(layer.c.name.at(i), "pm-result", null, go);
    });
    if (!found.length) ui.results.appendChild(el("li", "pm-none", t.search_none));
    return found;
  }
  ui.search.addEventListener("input", listMatches);
  ui.search.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    var found = listMatches();
    if (found.length) found[0]();
  });
}

/**
 * Keep the filter panel (a details element holding .pm-filters-body and the count line) inside
 * the map: the body scrolls within the room left between the panel's top and the controls of
 * the bottom-left corner, so the count line below it stays in view at any window height.
 */
function fitPanel(map, panel) {
  var body = panel.querySelector(".pm-filters-body");
  if (!body) return;
  function fit() {
    var box = map.getContainer();
    var top = panel.getBoundingClientRect().top - box.getBoundingClientRect().top;
    var corner = box.querySelector(".leaflet-bottom.leaflet-left");
    var below = corner ? corner.offsetHeight : 0;
    var room = box.clientHeight - top - below - 12;
    var rest = panel.offsetHeight - body.offsetHeight; // summary, count line, padding
    body.style.maxHeight = Math.max(48, room - rest) + "px";
  }
  map.on("resize", fit);
  panel.addEventListener("toggle", fit);
  onReady(fit);
  document.addEventListener("parkmap:ready", fit);
  // (no fit() now: onReady runs it when the page is parsed, or at once if it already is;
  // measuring the panel now would lay the page out one more time while it loads)
}
