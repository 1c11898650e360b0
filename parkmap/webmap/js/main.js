/* main.js — the public namespace window.parkmap, which the page script written by Python
 * calls (one line per layer or control, e.g. `var layer = parkmap.projectsLayer(map, {...})`),
 * plus parkmap.map (the last map made) and parkmap.ready / the "parkmap:ready" event, and the
 * small API for tests and embedding pages: parkmap.summary() and parkmap.find(text). */

api.setup = setup;
api.keepInFront = keepInFront;
api.parksLayer = parksLayer;
api.projectsLayer = projectsLayer;
api.hexLayer = hexLayer;
api.densityLayer = densityLayer;
api.contextLayer = contextLayer;
api.hotspotsLayer = hotspotsLayer;
api.clustersLayer = clustersLayer;
api.changesLayer = changesLayer;
api.parksAddedLayer = parksAddedLayer;
api.addTitle = addTitle;
api.addFullscreen = addFullscreen;
api.addLegend = addLegend;
api.addLegendSections = addLegendSections;
api.addFilters = addFilters;
api.addNote = addNote;
api.ready = false;

/** Start unpacking a projects payload's data blocks (the page calls this right after each
 * block, so that the worker decodes while the rest of the page is parsed; see startDecode),
 * and, called with {} before the first block, start the worker while that block is parsed. */
api.decodeBlock = function (d) {
  try {
    decodeWorker();
    startDecode(d);
  } catch (err) {
    console.error("parkmap: could not unpack the projects: " + err);
  }
};

/** The last map's project figures: {projects, shown, drawn} (see projectSummary). */
api.summary = function () {
  return projectSummary(runtime.maps[runtime.maps.length - 1]);
};

/** Ids of the last map's projects whose name or id contains text (see findProjects). */
api.find = function (text, limit) {
  return findProjects(runtime.maps[runtime.maps.length - 1], text, limit);
};

onReady(function () {
  runtime.parsed = true;
  settle();
});

if (window[TEST_FLAG]) installTestHooks(api);

// folium's Popup sets its content with $(`<div>…</div>`)[0] (jQuery), and this offline page has
// no jQuery: so `$` is defined for exactly that use, HTML text in, its top-level elements out.
// (OfflineMap's template replaces folium's other use, $(document).ready, by keepInFront.)
if (typeof window.$ === "undefined") {
  window.$ = function (html) {
    var box = document.createElement("template");
    box.innerHTML = String(html).trim();
    return Array.prototype.slice.call(box.content.children);
  };
}
