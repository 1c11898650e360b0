/* decode.js — the packed project columns into the arrays the runtime draws from.
 *
 * Keys and scales come from PAYLOAD_SCHEMA, which assets.runtime_js writes in front of these
 * files from parkmap/webmap/payload_schema.py: nothing here hard-codes them.
 */

var MS_PER_DAY = 864e5;

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

/** An n-long array from a sparse {row: value} object (value / scale when scaled), else empty. */
function sparse(n, obj, scale, empty) {
  var out = filled(n, empty);
  if (obj) {
    Object.keys(obj).forEach(function (k) {
      out[+k] = scale ? obj[k] / scale : obj[k];
    });
  }
  return out;
}

/** Year (UTC) of a day number (days since 1970-01-01). */
function yearOfDay(day) {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}

/** A day number as YYYY-MM-DD. */
function isoDay(day) {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The columns of projects payload d from its unpacked object raw, as the runtime uses them:
 * lon, lat (degrees), inv (亿元, schema.missing when unknown), year (0 when undated), st, ind,
 * park, near, name, id, day, km (null when not shown), warn ("" when none), and orig(i): the
 * coordinates as the file gave them ("" for rows given in WGS-84).
 */
function decodeColumns(schema, d, raw) {
  var f = schema.fields;
  var missing = schema.missing;
  var n = d[schema.count];
  var x0 = d[f.lon.origin];
  var y0 = d[f.lat.origin];
  var x = raw[f.lon.key];
  var y = raw[f.lat.key];
  var inv = raw[f.inv.key];
  var c = {
    lon: new Float64Array(n),
    lat: new Float64Array(n),
    inv: new Float64Array(n),
    year: new Int16Array(n),
    st: raw[f.st.key],
    ind: raw[f.ind.key],
    park: raw[f.park.key],
    near: raw[f.near.key],
    name: raw[f.name.key],
    id: raw[f.id.key] || filled(n, ""),
    day: raw[f.day.key] || filled(n, missing),
    km: sparse(n, raw[f.km.key], f.km.scale, null),
    warn: sparse(n, raw[f.warn.key], null, ""),
  };
  var osys = raw[f.origSys.key];
  var ox = raw[f.origLon.key];
  var oy = raw[f.origLat.key];
  var digits = schema.coordDecimals;
  // coordinates as the file gave them (converted rows only), written when a popup opens
  c.orig = function (i) {
    if (!osys || osys[i] < 0) return "";
    var gx = (x0 + x[i] + ox[i]) / f.origLon.scale;
    var gy = (y0 + y[i] + oy[i]) / f.origLat.scale;
    return gx.toFixed(digits) + ", " + gy.toFixed(digits) + " (" + d.origSystems[osys[i]] + ")";
  };
  var xs = f.lon.scale;
  var ys = f.lat.scale;
  var is = f.inv.scale;
  for (var i = 0; i < n; i++) {
    c.lon[i] = (x0 + x[i]) / xs;
    c.lat[i] = (y0 + y[i]) / ys;
    c.inv[i] = inv[i] < 0 ? missing : inv[i] / is;
    c.year[i] = c.day[i] >= 0 ? yearOfDay(c.day[i]) : 0;
  }
  return c;
}
