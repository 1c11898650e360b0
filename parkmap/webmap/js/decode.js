/* decode.js — the packed project columns into the typed arrays the runtime draws from.
 *
 * Keys, scales and the block's layout come from PAYLOAD_SCHEMA, which assets.runtime_js writes
 * in front of these files from parkmap/webmap/payload_schema.py: nothing here hard-codes them.
 */

var MS_PER_DAY = 864e5;
var SECTION_TYPES = { i8: Int8Array, i16: Int16Array, i32: Int32Array, f64: Float64Array };

/** base64 → gunzip, with the browser's own DecompressionStream (no request made): an ArrayBuffer. */
function gunzipBase64(b64) {
  var bytes;
  if (Uint8Array.fromBase64) {
    bytes = Uint8Array.fromBase64(b64); // native: several times faster than atob and a loop
  } else {
    var bin = atob(b64);
    var n = bin.length;
    bytes = new Uint8Array(n);
    for (var i = 0; i < n; i++) bytes[i] = bin.charCodeAt(i);
  }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** Integers of one section: byte planes put back together, then summed when delta-coded. */
function readInts(part, type, delta) {
  var Type = SECTION_TYPES[type];
  var size = Type.BYTES_PER_ELEMENT;
  var n = part.length / size;
  var bytes = new Uint8Array(part.length);
  if (size === 1) bytes.set(part);
  else {
    for (var b = 0; b < size; b++) {
      var plane = part.subarray(b * n, (b + 1) * n);
      for (var i = 0, j = b; i < n; i++, j += size) bytes[j] = plane[i];
    }
  }
  var out = new Type(bytes.buffer);
  if (delta) {
    if (size < 8) out = Float64Array.from(out); // running sums outgrow the stored type
    for (var k = 1; k < n; k++) out[k] += out[k - 1];
  }
  return out;
}

/**
 * A text column: n texts kept as UTF-8 bytes until first used, then as one string cut by
 * lengths (UTF-16 code units). at(i) gives text i; find(needle) the rows containing needle
 * (lower case; the needle given lower-cased).
 */
function TextColumn(lengths, bytes) {
  this.length = lengths.length;
  this._lengths = lengths;
  this._bytes = bytes;
  this._text = null;
}

TextColumn.prototype._open = function () {
  if (this._text !== null) return;
  var n = this.length;
  var ends = new Float64Array(n + 1);
  for (var i = 0; i < n; i++) ends[i + 1] = ends[i] + this._lengths[i];
  this._ends = ends;
  this._text = new TextDecoder().decode(this._bytes);
  this._bytes = null;
};

TextColumn.prototype.at = function (i) {
  this._open();
  return this._text.substring(this._ends[i], this._ends[i + 1]);
};

/** Rows whose text contains needle (already lower case), in row order, at most limit. */
TextColumn.prototype.find = function (needle, limit) {
  this._open();
  var out = [];
  if (!needle) return out;
  if (this._lower == null) {
    var lower = this._text.toLowerCase();
    // lower-casing a few characters changes their length: then search text by text
    this._lower = lower.length === this._text.length ? lower : false;
  }
  var ends = this._ends;
  var n = this.length;
  if (this._lower === false) {
    for (var i = 0; i < n && out.length < limit; i++) {
      if (this.at(i).toLowerCase().indexOf(needle) >= 0) out.push(i);
    }
    return out;
  }
  var text = this._lower;
  var row = 0;
  var from = 0;
  while (out.length < limit) {
    var at = text.indexOf(needle, from);
    if (at < 0) break;
    while (ends[row + 1] <= at) row += 1; // the row the match starts in (rows only move on)
    if (at + needle.length <= ends[row + 1]) {
      out.push(row);
      from = ends[row + 1]; // one hit per row
      row += 1;
    } else {
      from = at + 1; // the match runs into the next text: not a match
    }
  }
  return out;
};

/** Sections of one packed block (base64 b64, layout [[key, type, bytes, delta], ...]) into
 * raw: integer columns as typed arrays, text columns as TextColumns. */
function unpackBlock(schema, b64, layout, raw) {
  return gunzipBase64(b64).then(function (buffer) {
    var all = new Uint8Array(buffer);
    var pos = 0;
    layout.forEach(function (entry) {
      var key = entry[0];
      var part = all.subarray(pos, pos + entry[2]);
      pos += entry[2];
      if (entry[1] === "utf8") {
        raw[key] = new TextColumn(raw[key + schema.lengths], part);
        delete raw[key + schema.lengths];
      } else raw[key] = readInts(part, entry[1], entry[3]);
    });
    return raw;
  });
}

/** The number sections of payload d (a promise of raw; see unpackBlock). */
function unpackNumbers(schema, d) {
  return unpackBlock(schema, d[schema.packed], d[schema.layout], {});
}

/** The text sections of payload d, added to raw. */
function unpackTexts(schema, d, raw) {
  return unpackBlock(schema, d[schema.textPacked], d[schema.textLayout], raw);
}

/** Every section of payload d. */
function unpack(schema, d) {
  return unpackNumbers(schema, d).then(function (raw) {
    return unpackTexts(schema, d, raw);
  });
}

/** n empty texts. */
function emptyTexts(n) {
  return new TextColumn(new Int8Array(n), new Uint8Array(0));
}

/** An n-long Int32Array of value. */
function filledInts(n, value) {
  return new Int32Array(n).fill(value);
}

/** Year (UTC, proleptic Gregorian) of a day number (days since 1970-01-01), by arithmetic. */
function yearOfDay(day) {
  var z = day + 719468;
  var era = Math.floor(z / 146097);
  var doe = z - era * 146097;
  var yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  var doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  var mp = Math.floor((5 * doy + 2) / 153);
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

/** A day number as YYYY-MM-DD. */
function isoDay(day) {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The columns of projects payload d from its unpacked sections raw, as the runtime uses them:
 * lon, lat (degrees), inv (亿元, schema.missing when unknown), year (0 when undated), st, ind,
 * park, near, day (typed arrays), km (NaN when not shown), name, id, warn (TextColumns: .at(i);
 * empty until raw holds them: see addTexts), and orig(i): the coordinates as the file gave
 * them ("" for rows given in WGS-84).
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
  var km = raw[f.km.key];
  var empty = emptyTexts(n);
  var c = {
    lon: new Float64Array(n),
    lat: new Float64Array(n),
    inv: new Float64Array(n),
    year: new Int16Array(n),
    km: new Float64Array(n),
    st: raw[f.st.key],
    ind: raw[f.ind.key],
    park: raw[f.park.key],
    near: raw[f.near.key],
    name: raw[f.name.key] || empty,
    id: raw[f.id.key] || empty,
    day: raw[f.day.key] || filledInts(n, missing),
    warn: raw[f.warn.key] || empty,
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
  var ks = f.km.scale;
  var day = c.day;
  for (var i = 0; i < n; i++) {
    c.lon[i] = (x0 + x[i]) / xs;
    c.lat[i] = (y0 + y[i]) / ys;
    c.inv[i] = inv[i] < 0 ? missing : inv[i] / is;
    c.year[i] = day[i] >= 0 ? yearOfDay(day[i]) : 0;
    c.km[i] = km && km[i] >= 0 ? km[i] / ks : NaN;
  }
  return c;
}

/** Put the text columns of raw (unpackTexts) into columns c. */
function addTexts(schema, c, raw) {
  var f = schema.fields;
  ["name", "id", "warn"].forEach(function (column) {
    var texts = raw[f[column].key];
    if (texts) c[column] = texts;
  });
}
