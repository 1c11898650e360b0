/* decode.js — the packed project columns into the typed arrays the runtime draws from.
 *
 * Keys, scales and the block's layout come from PAYLOAD_SCHEMA, which assets.runtime_js writes
 * in front of these files from parkmap/webmap/payload_schema.py: nothing here hard-codes them.
 */

var MS_PER_DAY = 864e5;
var SECTION_TYPES = { i8: Int8Array, i16: Int16Array, i32: Int32Array, f64: Float64Array };

/** base64 → bytes (a Uint8Array). */
function base64Bytes(b64) {
  var bytes;
  if (Uint8Array.fromBase64) {
    bytes = Uint8Array.fromBase64(b64); // native: several times faster than atob and a loop
  } else {
    var bin = atob(b64);
    var n = bin.length;
    bytes = new Uint8Array(n);
    for (var i = 0; i < n; i++) bytes[i] = bin.charCodeAt(i);
  }
  return bytes;
}

/** gzip bytes → gunzip, with the browser's own DecompressionStream (no request made): a
 * promise of an ArrayBuffer. */
function gunzip(bytes) {
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).arrayBuffer();
}

/** base64 → gunzip: a promise of an ArrayBuffer. */
function gunzipBase64(b64) {
  return gunzip(base64Bytes(b64));
}

/**
 * Integers of one section: byte planes put back together (one value at a time: a byte loop
 * over a million values costs several times more), then summed when delta-coded.
 */
function readInts(part, type, delta) {
  var Type = SECTION_TYPES[type];
  var size = Type.BYTES_PER_ELEMENT;
  var n = part.length / size;
  var out = new Type(n);
  var i;
  if (size === 1) out.set(new Int8Array(part.buffer, part.byteOffset, n));
  else if (size === 2) {
    var a2 = part.subarray(0, n);
    var b2 = part.subarray(n, 2 * n);
    for (i = 0; i < n; i++) out[i] = a2[i] | (b2[i] << 8); // Int16Array keeps the sign
  } else if (size === 4) {
    var a4 = part.subarray(0, n);
    var b4 = part.subarray(n, 2 * n);
    var c4 = part.subarray(2 * n, 3 * n);
    var d4 = part.subarray(3 * n, 4 * n);
    for (i = 0; i < n; i++) out[i] = a4[i] | (b4[i] << 8) | (c4[i] << 16) | (d4[i] << 24);
  } else {
    var bytes = new Uint8Array(out.buffer);
    for (var b = 0; b < size; b++) {
      var plane = part.subarray(b * n, (b + 1) * n);
      for (i = 0; i < n; i++) bytes[i * size + b] = plane[i];
    }
  }
  if (delta) {
    if (size < 8) out = Float64Array.from(out); // running sums outgrow the stored type
    for (var k = 1; k < n; k++) out[k] += out[k - 1];
  }
  return out;
}

/** The sections of an unpacked block (bytes all, layout [[key, type, bytes, delta], ...]):
 * integer sections as typed arrays, text sections (type utf8) as views of their UTF-8 bytes.
 * With keys (a list), only the sections it names, or with skip true, only those it does not. */
function splitSections(all, layout, keys, skip) {
  var raw = {};
  var pos = 0;
  for (var k = 0; k < layout.length; k++) {
    var entry = layout[k];
    var part = all.subarray(pos, pos + entry[2]);
    pos += entry[2];
    if (keys && (keys.indexOf(entry[0]) >= 0) === Boolean(skip)) continue;
    raw[entry[0]] = entry[1] === "utf8" ? part : readInts(part, entry[1], entry[3]);
  }
  return raw;
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

/** The text sections of raw (splitSections of a block with layout) as TextColumns. */
function textColumns(schema, layout, raw) {
  layout.forEach(function (entry) {
    if (entry[1] !== "utf8") return;
    var key = entry[0];
    raw[key] = new TextColumn(raw[key + schema.lengths], raw[key]);
    delete raw[key + schema.lengths];
  });
  return raw;
}

/** Number of data blocks packed block value ({block: id, parts: k}) is cut into. */
function blockParts(value) {
  return value.parts || 1;
}

/** Text of part k of packed block value (ids: the block's, then id_1, id_2 …); null while the
 * page has not parsed it yet. */
function partText(value, k) {
  var node = document.getElementById(k ? value.block + "_" + k : value.block);
  return node ? node.textContent : null;
}

/**
 * The base64 text of a packed block: the payload's own string, or, when the payload names a
 * data block of the page ({block: id}: a <script type="application/octet-stream">, which the
 * HTML parser passes over and the JavaScript parser never sees), that block's text (its parts'
 * joined: each is whole base64 on its own).
 */
function blockText(value) {
  if (typeof value === "string") return value;
  var texts = [];
  for (var k = 0; k < blockParts(value); k++) {
    var text = partText(value, k);
    if (text === null) throw new Error("no data block " + value.block + (k ? "_" + k : ""));
    texts.push(text);
  }
  return texts.join("");
}

/** Whether the page has parsed every part of packed block value. */
function blockParsed(value) {
  return typeof value === "string" || partText(value, blockParts(value) - 1) !== null;
}

/** A promise of blockText(value), once the page has parsed it. */
function parsedText(value) {
  if (blockParsed(value)) return Promise.resolve(blockText(value));
  return new Promise(function (resolve) {
    onReady(resolve);
  }).then(function () {
    return blockText(value);
  });
}

/** A gunzip fed piece by piece: write(bytes) as they come, close() after the last; done is a
 * promise of the whole ArrayBuffer (inflating goes on while the pieces come). */
function streamGunzip() {
  var inflate = new DecompressionStream("gzip");
  var writer = inflate.writable.getWriter();
  var ignore = function () {}; // (a bad piece rejects done, which is what is waited on)
  return {
    write: function (bytes) {
      writer.write(bytes).catch(ignore);
    },
    close: function () {
      writer.close().catch(ignore);
    },
    done: new Response(inflate.readable).arrayBuffer(),
  };
}

/** Sections of one packed block (base64 b64 or {block: id}, layout [[key, type, bytes, delta],
 * ...]) into raw: integer columns as typed arrays, text columns as TextColumns. */
function unpackBlock(schema, b64, layout, raw) {
  return gunzipBase64(blockText(b64)).then(function (buffer) {
    var parts = textColumns(schema, layout, splitSections(new Uint8Array(buffer), layout));
    for (var key in parts) raw[key] = parts[key];
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

/** The number sections the first paint of the projects needs (see decodeJob): coordinates,
 * investment (marker size, bin sums), status and industry (colour), park (legend counts). */
function firstKeys(schema) {
  var f = schema.fields;
  return [f.lon.key, f.lat.key, f.inv.key].concat(firstIndexKeys(schema));
}

/** The index columns of the first paint: status, industry and park. */
function firstIndexKeys(schema) {
  var f = schema.fields;
  return [f.st.key, f.ind.key, f.park.key];
}

/** Investment in 亿元 (schema.missing when unknown) from its unpacked section raw.inv. */
function decodeInv(schema, raw) {
  var inv = raw[schema.fields.inv.key];
  var n = inv.length;
  var out = new Float64Array(n);
  var is = schema.fields.inv.scale;
  var missing = schema.missing;
  for (var i = 0; i < n; i++) out[i] = inv[i] < 0 ? missing : inv[i] / is;
  return out;
}

/** Degrees of the n integers v (origin + v[i]) / scale: a Float64Array. */
function degrees(v, origin, scale, n) {
  var out = new Float64Array(n);
  for (var i = 0; i < n; i++) out[i] = (origin + v[i]) / scale;
  return out;
}

/**
 * The numbers of projects payload d (only its count and origins are read) from its unpacked
 * number sections raw, as the runtime uses them: lon, lat (degrees), inv (亿元, schema.missing
 * when unknown), year (0 when undated), km (NaN when not shown). Those given in pre (already
 * decoded: some of lon, lat, inv) are left out. Pure, so it also runs in the decoding worker
 * (see decodeJob).
 */
function decodeNumbers(schema, d, raw, pre) {
  var f = schema.fields;
  var n = d[schema.count];
  var given = pre || {};
  var km = raw[f.km.key];
  var day = raw[f.day.key];
  var out = { year: new Int16Array(n), km: new Float64Array(n) };
  if (!given.lon) out.lon = degrees(raw[f.lon.key], d[f.lon.origin], f.lon.scale, n);
  if (!given.lat) out.lat = degrees(raw[f.lat.key], d[f.lat.origin], f.lat.scale, n);
  if (!given.inv) out.inv = decodeInv(schema, raw);
  var ks = f.km.scale;
  for (var i = 0; i < n; i++) out.km[i] = km && km[i] >= 0 ? km[i] / ks : NaN;
  if (day) yearsOfDays(day, out.year);
  return out;
}

/** year[i] = yearOfDay(day[i]) (0 for day < 0): from a table over the days' range when it is
 * not much longer than the column (a few thousand days for most ledgers). */
function yearsOfDays(day, year) {
  var n = day.length;
  var lo = Infinity;
  var hi = -Infinity;
  var i;
  for (i = 0; i < n; i++) {
    var v = day[i];
    if (v < 0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return;
  if (hi - lo > 2 * n + 4096) {
    for (i = 0; i < n; i++) year[i] = day[i] >= 0 ? yearOfDay(day[i]) : 0;
    return;
  }
  var table = new Int16Array(hi - lo + 1);
  var at = lo;
  while (at <= hi) {
    // one year at a time: its first day, then every day up to the next year's first
    var y = yearOfDay(at);
    var next = Math.round(Date.UTC(y + 1, 0, 1) / MS_PER_DAY);
    if (y + 1 < 100 || y + 1 > 9999 || !(next > at)) next = at + 1; // Date.UTC: 0–99 are 19xx
    table.fill(y, at - lo, Math.min(next, hi + 1) - lo);
    at = next;
  }
  for (i = 0; i < n; i++) year[i] = day[i] >= 0 ? table[day[i] - lo] : 0;
}

/**
 * The columns of projects payload d from its unpacked sections raw, as the runtime uses them:
 * lon, lat, inv, year, km (see decodeNumbers; given as nums when already decoded), st, ind,
 * park, near, day (typed arrays), name, id, warn (TextColumns: .at(i); empty until raw holds
 * them: see addTexts), and orig(i): the coordinates as the file gave them ("" for rows given
 * in WGS-84).
 */
function decodeColumns(schema, d, raw, nums) {
  var f = schema.fields;
  var missing = schema.missing;
  var n = d[schema.count];
  var x0 = d[f.lon.origin];
  var y0 = d[f.lat.origin];
  var x = raw[f.lon.key];
  var y = raw[f.lat.key];
  var empty = emptyTexts(n);
  var numbers = nums || decodeNumbers(schema, d, raw);
  var c = {
    lon: numbers.lon,
    lat: numbers.lat,
    inv: numbers.inv,
    year: numbers.year,
    km: numbers.km,
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
  return c;
}

/**
 * The columns of projects payload d the first paint needs, from out (decodeJob's first part):
 * inv, st, ind, park, and empty texts; the others come with addRest.
 */
function firstColumns(schema, d, out) {
  var empty = emptyTexts(d[schema.count]);
  var c = { inv: out.inv, name: empty, id: empty, warn: empty };
  firstIndexKeys(schema).forEach(function (key) {
    c[key] = out.raw[key];
  });
  return c;
}

/** Columns c (firstColumns of out) completed with rest (decodeJob's second part): as
 * decodeColumns makes them. */
function addRest(schema, d, c, out, rest) {
  var raw = rest.raw;
  for (var key in out.raw) raw[key] = out.raw[key];
  rest.nums.inv = out.inv;
  var whole = decodeColumns(schema, d, raw, rest.nums);
  for (var column in whole) if (!(column in c)) c[column] = whole[column];
}

/** Put the text columns of raw (unpackTexts) into columns c. */
function addTexts(schema, c, raw) {
  var f = schema.fields;
  ["name", "id", "warn"].forEach(function (column) {
    var texts = raw[f[column].key];
    if (texts) c[column] = texts;
  });
}

// ---------------------------------------------------------------- decoding off the main thread

// A million projects take a few hundred milliseconds to unpack, decode, project and index. A
// worker (made from a Blob of the functions below: no request, works offline) does it while
// the page is still being parsed: the page starts a block as soon as its data block is parsed
// (parkmap.decodeBlock, written by Python right after it). Where no worker can be made, the
// same functions run on the page.

/**
 * Decode one block: job {text (base64 of gzip), layout, numbers: null or {count, origins}}; a
 * promise of {out, rest}. For texts out is {raw: splitSections} and rest null. For numbers out
 * holds only what the first paint needs: raw (st, ind, park), inv (decodeInv), mx, my
 * (mercatorPixels); rest() gives the others when called: {raw: the other sections, nums:
 * decodeNumbers without inv}. The grid index (buildIndex)
 * comes after too: the first paint, of every project in view, does without it. inflated: a
 * promise of the gunzipped block when already under way (streamGunzip), else job.text is.
 */
function decodeJob(schema, job, inflated) {
  return (inflated || gunzipBase64(job.text)).then(function (buffer) {
    var all = new Uint8Array(buffer);
    if (!job.numbers) return { out: { raw: splitSections(all, job.layout) }, rest: null };
    var f = schema.fields;
    var meta = job.numbers;
    var n = meta[schema.count];
    var keys = firstKeys(schema);
    var raw = splitSections(all, job.layout, keys);
    var x = raw[f.lon.key];
    var y = raw[f.lat.key];
    var lon = degrees(x, meta[f.lon.origin], f.lon.scale, n);
    var lat = degrees(y, meta[f.lat.origin], f.lat.scale, n);
    var inv = decodeInv(schema, raw);
    var m = mercatorPixels(lon, lat, n, job.maxLatitude);
    var first = {};
    firstIndexKeys(schema).forEach(function (key) {
      first[key] = raw[key];
    });
    var rest = function () {
      var more = splitSections(all, job.layout, keys, true);
      more[f.lon.key] = x;
      more[f.lat.key] = y;
      var nums = decodeNumbers(schema, meta, more, { lon: lon, lat: lat, inv: inv });
      nums.lon = lon;
      nums.lat = lat;
      return { raw: more, nums: nums };
    };
    return { out: { raw: first, inv: inv, mx: m.x, my: m.y }, rest: rest };
  });
}

/** The ArrayBuffers under the typed arrays of out (decodeJob), each once: moved, not copied. */
function transferables(out) {
  var found = [];
  var add = function (a) {
    if (a && a.buffer instanceof ArrayBuffer && found.indexOf(a.buffer) < 0) found.push(a.buffer);
  };
  [out.raw, out.nums, out.index, { inv: out.inv }].forEach(function (group) {
    // (mx, my are copied: the worker goes on to index them)
    if (group) Object.keys(group).forEach(function (k) { add(group[k]); });
  });
  return found;
}

/**
 * The worker's message loop: one job after another (numbers first, as the page sends them).
 * What the first paint does not need (the grid index, the texts) waits until the page says
 * it has painted ({release: true}), so as not to take a processor from it meanwhile. A job
 * sent without its text ({stream: true}) gets it in pieces ({id, piece, last}), inflated as
 * they come, while the page parses the next.
 */
function workerMain(scope) {
  var queue = Promise.resolve();
  var release;
  var released = new Promise(function (resolve) {
    release = resolve;
  });
  var streams = {};
  scope.onmessage = function (e) {
    var job = e.data;
    if (job.release) return release();
    if (job.piece != null) {
      var stream = streams[job.id];
      stream.write(base64Bytes(job.piece));
      if (job.last) {
        stream.close();
        delete streams[job.id];
      }
      return;
    }
    var inflated = null;
    if (job.stream) {
      streams[job.id] = streamGunzip();
      inflated = streams[job.id].done;
      inflated.catch(function () {}); // (reported when the job runs)
    }
    queue = queue.then(function () {
      return (job.numbers ? Promise.resolve() : released).then(function () {
        return decodeJob(job.schema, job, inflated);
      }).then(
        function (done) {
          var out = done.out;
          scope.postMessage({ id: job.id, out: out }, transferables(out));
          if (!job.numbers) return;
          return released.then(function () {
            var rest = done.rest();
            scope.postMessage({ id: job.id + "+rest", out: rest }, transferables(rest));
            var more = { index: buildIndex(out.mx, out.my, job.numbers[job.schema.count]) };
            scope.postMessage({ id: job.id + "+index", out: more }, transferables(more));
          });
        },
        function (err) {
          scope.postMessage({ id: job.id, error: String(err) });
        }
      );
    });
  };
}

/** Source of the decoding worker: the functions it runs and their constants. */
function workerSource() {
  var parts = [base64Bytes, gunzip, gunzipBase64, streamGunzip, readInts, splitSections, yearOfDay, yearsOfDays, firstKeys, firstIndexKeys, decodeInv, degrees, decodeNumbers,
    mercatorPixels, buildIndex, decodeJob, transferables, workerMain];
  return (
    "var MS_PER_DAY = " + MS_PER_DAY + ";\nvar INDEX_SIDE = " + INDEX_SIDE + ";\n" +
    "var MERCATOR_STEP = " + MERCATOR_STEP + ";\n" +
    "var SECTION_TYPES = {i8: Int8Array, i16: Int16Array, i32: Int32Array, f64: Float64Array};\n" +
    parts.map(String).join("\n") + "\nworkerMain(self);\n"
  );
}

/** The page's decoding worker, made on first use; null where none can be made. */
function decodeWorker() {
  if (runtime.worker !== undefined) return runtime.worker;
  runtime.worker = null;
  runtime.waiting = {};
  try {
    var url = URL.createObjectURL(new Blob([workerSource()], { type: "text/javascript" }));
    var worker = new Worker(url);
    worker.onmessage = function (e) {
      var wait = runtime.waiting[e.data.id];
      delete runtime.waiting[e.data.id];
      if (!wait) return;
      if (e.data.error) wait.reject(new Error(e.data.error));
      else {
        if (e.data.id.indexOf("+") < 0) runtime.decodedInWorker = (runtime.decodedInWorker || 0) + 1;
        wait.resolve(e.data.out);
      }
    };
    worker.onerror = function () {
      // no worker after all (e.g. refused by the browser): every job waiting runs on the page
      runtime.worker = null;
      var waiting = runtime.waiting;
      runtime.waiting = {};
      Object.keys(waiting).forEach(function (id) {
        waiting[id].reject(new Error("no worker"));
      });
    };
    runtime.worker = worker;
  } catch (err) {
    runtime.worker = null;
  }
  return runtime.worker;
}

/** Let the worker go on with what the first paint did not need (see workerMain): called once
 * the projects are painted, or the page gives up on them. */
function releaseWorker() {
  if (runtime.worker) runtime.worker.postMessage({ release: true });
}

/** Decode job on the page, after the jobs already running there (texts wait for a frame, so
 * that the projects are painted first). */
function decodeHere(job) {
  var before = runtime.here || Promise.resolve();
  runtime.decodedHere = (runtime.decodedHere || 0) + 1;
  var run = before.then(function () {
    return parsedText(job.packed);
  }).then(function (text) {
    job.text = text;
    if (job.numbers) {
      return decodeJob(PAYLOAD_SCHEMA, job).then(function (done) {
        var out = done.out;
        out.rest = new Promise(function (resolve) {
          setTimeout(function () {
            resolve(done.rest());
          }, 0);
        });
        out.indexed = new Promise(function (resolve) {
          setTimeout(function () {
            resolve({ index: buildIndex(out.mx, out.my, job.numbers[PAYLOAD_SCHEMA.count]) });
          }, 0);
        });
        return out;
      });
    }
    return new Promise(function (resolve) {
      requestAnimationFrame(function () {
        setTimeout(resolve, 0);
      });
    }).then(function () {
      return decodeJob(PAYLOAD_SCHEMA, job);
    }).then(function (done) {
      return done.out;
    });
  });
  runtime.here = run.catch(function () {});
  return run;
}

/**
 * Decode job ({packed: the payload's packed value, layout, numbers …}; see decodeJob) in the
 * worker (on the page when there is none, or it fails). A block in several parts goes to the
 * worker part by part: job.feed() hands it the parts parsed since the last call.
 */
function decodeAnywhere(job) {
  var worker = decodeWorker();
  job.feed = function () {};
  if (!worker) return decodeHere(job);
  runtime.jobCount = (runtime.jobCount || 0) + 1;
  var id = "job" + runtime.jobCount;
  var message = {};
  for (var key in job) if (key !== "packed" && key !== "feed") message[key] = job[key];
  message.id = id;
  message.schema = PAYLOAD_SCHEMA;
  if (typeof job.packed !== "string" && blockParts(job.packed) > 1) {
    message.stream = true;
    var fed = 0;
    job.feed = function () {
      var parts = blockParts(job.packed);
      while (fed < parts && runtime.worker === worker) {
        var text = partText(job.packed, fed);
        if (text === null) return;
        fed += 1;
        worker.postMessage({ id: id, piece: text, last: fed === parts });
      }
    };
  } else {
    message.text = blockText(job.packed);
  }
  var later = function (suffix) {
    if (!job.numbers) return null;
    var promise = new Promise(function (resolve, reject) {
      runtime.waiting[id + suffix] = { resolve: resolve, reject: reject };
    });
    promise.catch(function () {}); // (made again below if the worker fails)
    return promise;
  };
  var rest = later("+rest");
  var indexed = later("+index");
  return new Promise(function (resolve, reject) {
    runtime.waiting[id] = { resolve: resolve, reject: reject };
    worker.postMessage(message); // (the text is copied, as one block of bytes: fast)
    job.feed();
  }).then(function (out) {
    if (rest) {
      out.rest = rest.catch(function () {
        // the worker has gone: the page decodes the block again
        return decodeHere(job).then(function (again) {
          return again.rest;
        });
      });
    }
    if (indexed) {
      out.indexed = indexed.catch(function () {
        return { index: buildIndex(out.mx, out.my, job.numbers[PAYLOAD_SCHEMA.count]) };
      });
    }
    return out;
  }).catch(function () {
    return decodeHere(job);
  });
}

/**
 * Start decoding the blocks of projects payload d (numbers when it has them, then texts), once
 * per data block: the page calls this right after each data block (parkmap.decodeBlock), and
 * the projects layer again to get the same promises. Returns {numbers, texts} (promises, or
 * null for a block d does not have).
 */
function startDecode(d) {
  var schema = PAYLOAD_SCHEMA;
  var jobs = (runtime.jobs = runtime.jobs || {});
  var start = function (packed, make) {
    if (packed == null) return null;
    var key = typeof packed === "string" ? null : packed.block;
    var job = key && jobs[key];
    var waits = (runtime.blockWaits = runtime.blockWaits || {});
    if (!job) {
      if (key && partText(packed, 0) === null) {
        // A block written after the page script (the texts): the page has not parsed it yet.
        // Its own decodeBlock call, right after it, starts the job and keeps this promise.
        if (!waits[key]) {
          var wait = {};
          wait.promise = new Promise(function (resolve) {
            wait.resolve = resolve;
          });
          waits[key] = wait;
        }
        return waits[key].promise;
      }
      job = make(packed);
      job.promise = decodeAnywhere(job);
      if (key) jobs[key] = job;
      if (key && waits[key]) waits[key].resolve(job.promise);
    }
    job.feed(); // the parts parsed since the last call
    return job.promise;
  };
  return {
    numbers: start(d[schema.packed], function (packed) {
      var meta = {};
      meta[schema.count] = d[schema.count];
      meta[schema.fields.lon.origin] = d[schema.fields.lon.origin];
      meta[schema.fields.lat.origin] = d[schema.fields.lat.origin];
      return { packed: packed, layout: d[schema.layout], numbers: meta, maxLatitude: MAX_LATITUDE };
    }),
    texts: start(d[schema.textPacked], function (packed) {
      return { packed: packed, layout: d[schema.textLayout], numbers: null };
    }),
  };
}
