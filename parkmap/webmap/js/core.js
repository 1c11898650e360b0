/* core.js — what every part uses: the runtime's state, HTML helpers, readiness.
 *
 * The runtime is the files of js/ concatenated in the order of assets.RUNTIME_FILES inside one
 * function, so they share functions and no globals. Mutable state is held in two places only:
 * `runtime` (page-wide) and one MapState per map (mapState(map)), which is passed explicitly
 * to every layer and control of that map.
 * Rule: every string that comes from the data goes through esc() before it becomes HTML,
 * or is set with textContent. Tooltips and popups are built only when they open.
 */

/** The public namespace, window.parkmap: main.js puts the functions Python calls on it. */
var api = (window.parkmap = window.parkmap || {});

/** Page-wide state. */
var runtime = {
  maps: [], // one MapState per map, in the order the maps were made
  pending: 0, // layers still unpacking their data
  parsed: false, // the document has been parsed
  ready: false, // every layer has its data and the document is parsed (= parkmap.ready)
  playStepMs: 800, // milliseconds per year when the year slider plays
};

/**
 * The state of one map, made on first use: its words (t, lang), its parkmap layers and their
 * payloads by key (layers.projects, data.projects …), the shared canvas, legend and filters.
 * The last map made is also parkmap.map.
 */
function mapState(map) {
  if (!map._parkmap) {
    map._parkmap = {
      map: map,
      t: {},
      lang: null,
      layers: {},
      data: {},
      renderer: null,
      legend: null,
      filters: null,
    };
    runtime.maps.push(map._parkmap);
    api.map = map;
  }
  return map._parkmap;
}

// ---------------------------------------------------------------- readiness

// The project arrays are unpacked asynchronously (DecompressionStream). parkmap.ready turns
// true, and "parkmap:ready" is dispatched on document, once every layer has its data and the
// page has been parsed.

/** Count one layer whose data is coming; call the function returned once it has come. */
function expectData() {
  runtime.pending += 1;
  return function () {
    runtime.pending -= 1;
    settle();
  };
}

function settle() {
  if (runtime.pending === 0 && runtime.parsed && !runtime.ready) {
    runtime.ready = api.ready = true;
    document.dispatchEvent(new Event("parkmap:ready"));
  }
}

function onReady(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
  else fn();
}

// ---------------------------------------------------------------- text and HTML

var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** HTML-escape any value. */
function esc(value) {
  return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
    return ENTITIES[c];
  });
}

/** Number formats by decimals (one Intl.NumberFormat each: toLocaleString makes one per call). */
var NUMBER_FORMATS = {};

/** Format a number with fixed decimals and thousands separators; null when missing. */
function num(x, digits) {
  if (x == null || !isFinite(x)) return null;
  var format = NUMBER_FORMATS[digits];
  if (!format) {
    format = NUMBER_FORMATS[digits] = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }
  return format.format(Number(x));
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

function rgba(hex, alpha) {
  var n = parseInt(hex.slice(1), 16);
  return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
}
