/* testing.js — hooks for the browser tests. main.js installs them only when the page was opened
 * with window[TEST_FLAG] (window.__parkmapTest) set before it loaded, as the tests do with an
 * init script; a map opened normally has none of them. */

function installTestHooks(api) {
  /** The state of a map (the last map made when none is given): map, layers, data. */
  api.state = function (map) {
    return map ? mapState(map) : runtime.maps[runtime.maps.length - 1];
  };
  api.drawnCount = function (map) {
    return drawnCount(api.state(map));
  };
  /** Project ids painted now (passing the filters and in view, as points or in bins). */
  api.drawnIds = function (map) {
    var layer = api.state(map).layers.projects;
    if (!layer || !layer._map) return [];
    return Array.from(layer.visible.subarray(0, layer.inView), function (i) {
      return layer.c.id.at(i);
    });
  };
  /** Blocks of packed projects decoded so far: {worker: n, page: n} (see startDecode). */
  api.decoded = function () {
    return { worker: runtime.decodedInWorker || 0, page: runtime.decodedHere || 0 };
  };
  api.aggregated = function (map) {
    return isAggregated(api.state(map));
  };
  /** Vector paths (polygons, lines, circles) a parkmap layer has on the map now. */
  api.layerCount = function (key, map) {
    var s = api.state(map);
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
  /** Milliseconds per year when the year slider plays (a test shortens it). */
  Object.defineProperty(api, "PLAY_STEP_MS", {
    configurable: true,
    enumerable: true,
    get: function () {
      return runtime.playStepMs;
    },
    set: function (ms) {
      runtime.playStepMs = ms;
    },
  });
  // ms since navigation start: data ready, then the first frame painted after it
  api.timing = null;
  document.addEventListener("parkmap:ready", function () {
    var timing = (api.timing = { ready: performance.now(), firstFrame: null });
    requestAnimationFrame(function () {
      timing.firstFrame = performance.now();
    });
  });
  /** The pure functions, for tests/test_webmap_js.py. */
  api.internals = {
    schema: PAYLOAD_SCHEMA,
    unpack: unpack,
    readInts: readInts,
    TextColumn: TextColumn,
    yearOfDay: yearOfDay,
    yearsOfDays: yearsOfDays,
    mercatorPixels: mercatorPixels,
    decodeColumns: decodeColumns,
    passesFilter: passesFilter,
    hexRound: hexRound,
    pixelToHex: pixelToHex,
    hexCentre: hexCentre,
    hexKey: hexKey,
    cellOf: cellOf,
    cellKey: cellKey,
    pointHit: pointHit,
    binAt: binAt,
    markerRadius: markerRadius,
    esc: esc,
    num: num,
    fill: fill,
    pValue: pValue,
    clusterLabel: clusterLabel,
  };
}
