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
 * integer sections as typed arrays, text sections (type utf8) as views of their UTF-8 bytes. */
function splitSections(all, layout) {
  var raw = {};
  var pos = 0;
  for (var k = 0; k < layout.length; k++) {
    var entry = layout[k];
    var part = all.subarray(pos, pos + entry[2]);
    pos += entry[2];
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

/**
 * The base64 text of a packed block: the payload's own string, or, when the payload names a
 * data block of the page ({block: id}: a <script type="application/octet-stream">, which the
 * HTML parser passes over and the JavaScript parser never sees), that block's text.
 */
function blockText(value) {
  if (typeof value === "string") return value;
  var node = document.getElementById(value.block);
  if (!node) throw new Error("no data block " + value.block);
  return node.textContent;
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

/**
 * The numbers of projects payload d (only its count and origins are read) from its unpacked
 * number sections raw, as the runtime uses them: lon, lat (degrees), inv (亿元, schema.missing
 * when unknown), year (0 when undated), km (NaN when not shown). Pure, so it also runs in the
 * decoding worker (see decodeJob).
 */
function decodeNumbers(schema, d, raw) {
  var f = schema.fields;
  var missing = schema.missing;
  var n = d[schema.count];
  var x0 = d[f.lon.origin];
  var y0 = d[f.lat.origin];
  var x = raw[f.lon.key];
  var y = raw[f.lat.key];
  var inv = raw[f.inv.key];
  var km = raw[f.km.key];
  var day = raw[f.day.key];
  var out = {
    lon: new Float64Array(n),
    lat: new Float64Array(n),
    inv: new Float64Array(n),
    year: new Int16Array(n),
    km: new Float64Array(n),
  };
  var xs = f.lon.scale;
  var ys = f.lat.scale;
  var is = f.inv.scale;
  var ks = f.km.scale;
  for (var i = 0; i < n; i++) {
    out.lon[i] = (x0 + x[i]) / xs;
    out.lat[i] = (y0 + y[i]) / ys;
    out.inv[i] = inv[i] < 0 ? missing : inv[i] / is;
    out.km[i] = km && km[i] >= 0 ? km[i] / ks : NaN;
  }
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

/** Decode one block: job {text (base64 of gzip), layout, numbers: null or {count, origins}}; a promise
 * of {raw: splitSections, and for numbers nums (decodeNumbers), mx, my (mercatorPixels)}. The
 * grid index of the numbers (buildIndex) comes after: the first paint, of every project in
 * view, does without it. */
function decodeJob(schema, job) {
  return gunzipBase64(job.text).then(function (buffer) {
    var out = { raw: splitSections(new Uint8Array(buffer), job.layout) };
    if (job.numbers) {
      var nums = decodeNumbers(schema, job.numbers, out.raw);
      var n = job.numbers[schema.count];
      var m = mercatorPixels(nums.lon, nums.lat, n, job.maxLatitude);
      out.nums = nums;
      out.mx = m.x;
      out.my = m.y;
    }
    return out;
  });
}

/** The ArrayBuffers under the typed arrays of out (decodeJob), each once: moved, not copied. */
function transferables(out) {
  var found = [];
  var add = function (a) {
    if (a && a.buffer instanceof ArrayBuffer && found.indexOf(a.buffer) < 0) found.push(a.buffer);
  };
  [out.raw, out.nums, out.index].forEach(function (group) {
    // (mx, my are copied: the worker goes on to index them)
    if (group) Object.keys(group).forEach(function (k) { add(group[k]); });
  });
  return found;
}

/**
 * The worker's message loop: one job after another (numbers first, as the page sends them).
 * What the first paint does not need (the grid index, the texts) waits until the page says
 * it has painted ({release: true}), so as not to take a processor from it meanwhile.
 */
function workerMain(scope) {
  var queue = Promise.resolve();
  var release;
  var released = new Promise(function (resolve) {
    release = resolve;
  });
  scope.onmessage = function (e) {
    var job = e.data;
    if (job.release) return release();
    queue = queue.then(function () {
      return (job.numbers ? Promise.resolve() : released).then(function () {
        return decodeJob(job.schema, job);
      }).then(
        function (out) {
          scope.postMessage({ id: job.id, out: out }, transferables(out));
          if (!job.numbers) return;
          return released.then(function () {
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
  var parts = [base64Bytes, gunzip, gunzipBase64, readInts, splitSections, yearOfDay, yearsOfDays, decodeNumbers,
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
    if (job.numbers) {
      return decodeJob(PAYLOAD_SCHEMA, job).then(function (out) {
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
    });
  });
  runtime.here = run.catch(function () {});
  return run;
}

/** Decode job in the worker (on the page when there is none, or it fails). */
function decodeAnywhere(job) {
  var worker = decodeWorker();
  if (!worker) return decodeHere(job);
  runtime.jobCount = (runtime.jobCount || 0) + 1;
  var id = "job" + runtime.jobCount;
  var message = {};
  for (var key in job) message[key] = job[key];
  message.id = id;
  message.schema = PAYLOAD_SCHEMA;
  var indexed = job.numbers
    ? new Promise(function (resolve, reject) {
        runtime.waiting[id + "+index"] = { resolve: resolve, reject: reject };
      })
    : null;
  if (indexed) indexed.catch(function () {}); // (made again below if the worker fails)
  return new Promise(function (resolve, reject) {
    runtime.waiting[id] = { resolve: resolve, reject: reject };
    worker.postMessage(message); // (the text is copied, as one block of bytes: fast)
  }).then(function (out) {
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
    if (key && jobs[key]) return jobs[key];
    var promise = decodeAnywhere(make(blockText(packed)));
    if (key) jobs[key] = promise;
    return promise;
  };
  return {
    numbers: start(d[schema.packed], function (text) {
      var meta = {};
      meta[schema.count] = d[schema.count];
      meta[schema.fields.lon.origin] = d[schema.fields.lon.origin];
      meta[schema.fields.lat.origin] = d[schema.fields.lat.origin];
      return { text: text, layout: d[schema.layout], numbers: meta, maxLatitude: MAX_LATITUDE };
    }),
    texts: start(d[schema.textPacked], function (text) {
      return { text: text, layout: d[schema.textLayout], numbers: null };
    }),
  };
}
