/* grid.js — screen hexagons for binned projects, and the square cells of the points' hit-test
 * index. Pure functions of numbers, in layer pixels. And the cell of the investment grid
 * holding each project (cellsOfPoints), in lon/lat.
 *
 * Hexagons are pointy-top with axial coordinates (q, r), radius R px (centre to corner);
 * hexagon (0, 0) is centred on pixel (0, 0).
 */

var SQRT3 = Math.sqrt(3);
/** Side of a square cell of the points' hit-test index, px. */
var CELL = 32;

/** The hexagon [q, r] nearest to fractional axial coordinates (q, r) (cube rounding). */
function hexRound(q, r) {
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
}

/** The hexagon [q, r] of radius R holding pixel (x, y). */
function pixelToHex(x, y, R) {
  return hexRound(((SQRT3 / 3) * x - y / 3) / R, ((2 / 3) * y) / R);
}

/** The centre pixel {x, y} of hexagon (q, r) of radius R. */
function hexCentre(q, r, R) {
  return { x: R * SQRT3 * (q + r / 2), y: R * 1.5 * r };
}

/** Key of hexagon (q, r) in a Map of bins. */
function hexKey(q, r) {
  return q + "," + r;
}

/** Index (from 1, so that a neighbour of cell 0 is still positive) of the cell holding v px. */
function cellOf(v) {
  return Math.floor(v / CELL + 1);
}

/** Key of cell (gx, gy) in the hit-test index. */
function cellKey(gx, gy) {
  return gy * 65536 + gx;
}

/** Numeric key of bucket (gx, gy); unique while |gy| < 2^21 (buckets taller than 5 m). */
function bucketKey(gx, gy) {
  return gx * 4194304 + gy;
}

/** Whether point (x, y) lies inside the rings (even–odd: holes and several parts work). */
function inRings(rings, x, y) {
  var inside = false;
  for (var r = 0; r < rings.length; r++) {
    var ring = rings[r];
    for (var a = 0, b = ring.length - 1; a < ring.length; b = a++) {
      var ya = ring[a][1];
      var yb = ring[b][1];
      if (ya > y !== yb > y && x < ((ring[b][0] - ring[a][0]) * (y - ya)) / (yb - ya) + ring[a][0]) {
        inside = !inside;
      }
    }
  }
  return inside;
}

/**
 * Index of the feature (a cell of the investment grid, GeoJSON Polygon or MultiPolygon in
 * lon/lat) holding each of the n points (lon[i], lat[i]); -1 outside every cell. Cells are
 * put in buckets of about one cell's size by their bounding boxes, so a point tests a few
 * cells: one pass over the points, made once.
 */
function cellsOfPoints(features, lon, lat, n) {
  var out = new Int32Array(n).fill(-1);
  var rings = [];
  var box = [];
  var w = 0;
  var h = 0;
  features.forEach(function (f, k) {
    var g = f.geometry;
    var parts = !g ? [] : g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    var list = [];
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    parts.forEach(function (poly) {
      poly.forEach(function (ring) {
        list.push(ring);
        ring.forEach(function (xy) {
          b[0] = Math.min(b[0], xy[0]);
          b[1] = Math.min(b[1], xy[1]);
          b[2] = Math.max(b[2], xy[0]);
          b[3] = Math.max(b[3], xy[1]);
        });
      });
    });
    rings[k] = list;
    box[k] = b;
    if (list.length) {
      w = Math.max(w, b[2] - b[0]);
      h = Math.max(h, b[3] - b[1]);
    }
  });
  if (!(w > 0 && h > 0)) return out;
  var buckets = new Map();
  box.forEach(function (b, k) {
    if (!rings[k].length) return;
    for (var gx = Math.floor(b[0] / w); gx <= Math.floor(b[2] / w); gx++) {
      for (var gy = Math.floor(b[1] / h); gy <= Math.floor(b[3] / h); gy++) {
        var key = bucketKey(gx, gy);
        var list = buckets.get(key);
        if (list) list.push(k);
        else buckets.set(key, [k]);
      }
    }
  });
  for (var i = 0; i < n; i++) {
    var cand = buckets.get(bucketKey(Math.floor(lon[i] / w), Math.floor(lat[i] / h)));
    if (!cand) continue;
    for (var j = 0; j < cand.length; j++) {
      var b = box[cand[j]];
      if (lon[i] < b[0] || lon[i] > b[2] || lat[i] < b[1] || lat[i] > b[3]) continue;
      if (inRings(rings[cand[j]], lon[i], lat[i])) {
        out[i] = cand[j];
        break;
      }
    }
  }
  return out;
}
