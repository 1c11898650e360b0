/* grid.js — screen hexagons for binned projects, and the square cells of the points' hit-test
 * index. Pure functions of numbers, in layer pixels.
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
