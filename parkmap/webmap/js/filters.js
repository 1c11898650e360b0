/* filters.js — which projects pass the filters, and the panel that sets them. */

/**
 * Whether project i of columns c (decode.js) passes filter f; a null f passes everything.
 * f: status[k] / industry[k] (booleans by status / industry index), year (signed in or before
 * it; null: any), noDate (keep undated projects), min / max (亿元; null: open), unknownInv
 * (keep projects of unknown investment).
 */
function passesFilter(f, c, i) {
  if (!f) return true;
  var v = c.inv[i];
  return Boolean(
    f.status[c.st[i]] &&
      f.industry[c.ind[i]] &&
      (c.day[i] < 0 ? f.noDate : f.year == null || c.year[i] <= f.year) &&
      (v < 0 ? f.unknownInv : (f.min == null || v >= f.min) && (f.max == null || v <= f.max))
  );
}

function checkbox(label, checked, className, color) {
  var item = el("label", "pm-check");
  var box = el("input", className);
  box.type = "checkbox";
  box.checked = checked;
  item.appendChild(box);
  if (color) {
    var sw = el("span", "pm-swatch");
    sw.style.background = color;
    item.appendChild(sw);
  }
  item.appendChild(el("span", null, label));
  return item;
}

function numberInput(className, placeholder) {
  var input = el("input", className);
  input.type = "number";
  input.min = "0";
  input.step = "any";
  input.placeholder = placeholder;
  return input;
}

function fieldset(box, title, key) {
  var part = el("fieldset", "pm-fieldset");
  part.setAttribute("data-filter", key);
  part.appendChild(el("legend", null, title));
  box.appendChild(part);
  return part;
}

function numberOrNull(input) {
  var v = input.value.trim();
  return v === "" || !isFinite(+v) ? null : +v;
}

/**
 * One collapsible panel: search, status, industry (top industries + other), signed year
 * (cumulative, with a play button), investment range. Every change refilters the projects.
 */
function addFilters(map, cfg) {
  var s = mapState(map);
  var t = s.t;
  var d = s.data.projects;
  var layer = s.layers.projects;
  if (!d || !layer) return null;
  var ui = {};
  var ctl = control(map, "topleft", function () {
    // The panel: its title (click to fold), a body that scrolls when the window is short
    // (controls.js fitPanel), and the count line below the body, always in view.
    var panel = el("details", "pm-box pm-filters");
    panel.open = true;
    panel.appendChild(el("summary", null, t.filters));
    var box = el("div", "pm-filters-body");
    panel.appendChild(box);

    var search = el("div", "pm-search-box");
    ui.search = el("input", "pm-search");
    ui.search.type = "search";
    ui.search.placeholder = t.search;
    ui.search.setAttribute("aria-label", t.search);
    ui.results = el("ul", "pm-results");
    search.appendChild(ui.search);
    search.appendChild(ui.results);
    box.appendChild(search);

    var status = fieldset(box, t.filter_status, "status");
    ui.status = d.statuses.map(function (name, k) {
      var item = checkbox(t["status_" + name], true, null, d.statusColors[k]);
      status.appendChild(item);
      return item.firstChild;
    });

    var industry = fieldset(box, t.filter_industry, "industry");
    var groups = d.topIndustries.slice();
    if (d.hasOther) groups.push(t.other);
    ui.groupOf = d.industries.map(function (name) {
      var k = d.topIndustries.indexOf(name);
      return k >= 0 ? k : d.topIndustries.length;
    });
    ui.industry = groups.map(function (name, k) {
      var color = k < d.topIndustries.length ? d.industryColors[d.industries.indexOf(name)] : null;
      var item = checkbox(name, true, null, d.colorBy === "industry" ? color : null);
      industry.appendChild(item);
      return item.firstChild;
    });

    if (cfg.years.length) {
      var years = fieldset(box, t.filter_year, "year");
      var line = el("div", "pm-year-line");
      ui.year = el("input", "pm-year");
      ui.year.type = "range";
      ui.year.min = String(cfg.years[0]);
      ui.year.max = String(cfg.years[1]);
      ui.year.step = "1";
      ui.year.value = String(cfg.years[1]);
      ui.yearLabel = el("span", "pm-year-label", String(cfg.years[1]));
      // Plays the years from the first: projects and the shown total build up year by year.
      ui.play = el("button", "pm-play", "\u25b6");
      ui.play.type = "button";
      ui.play.title = t.filter_play;
      ui.play.setAttribute("aria-label", t.filter_play);
      line.appendChild(ui.play);
      line.appendChild(ui.year);
      line.appendChild(ui.yearLabel);
      years.appendChild(line);
      var noDate = checkbox(t.filter_no_date, true, "pm-nodate");
      ui.noDate = noDate.firstChild;
      if (cfg.hasUndated) years.appendChild(noDate);
    }

    var inv = fieldset(box, t.filter_investment, "investment");
    var range = el("div", "pm-range");
    ui.min = numberInput("pm-inv-min", t.filter_min);
    ui.max = numberInput("pm-inv-max", t.filter_max);
    range.appendChild(ui.min);
    range.appendChild(el("span", null, "–"));
    range.appendChild(ui.max);
    inv.appendChild(range);
    var unknown = checkbox(t.filter_unknown_inv, true, "pm-inv-unknown");
    ui.unknown = unknown.firstChild;
    if (cfg.hasUnknownInvestment) inv.appendChild(unknown);

    ui.shown = el("div", "pm-shown");
    panel.appendChild(ui.shown);
    return panel;
  });

  /** The filter the panel shows now (see passesFilter). */
  function current() {
    var status = ui.status.map(function (b) {
      return b.checked;
    });
    var industry = ui.groupOf.map(function (g) {
      return ui.industry[g] ? ui.industry[g].checked : true;
    });
    if (ui.year) ui.yearLabel.textContent = ui.year.value;
    return {
      status: status,
      industry: industry,
      year: ui.year ? +ui.year.value : null,
      noDate: ui.noDate ? ui.noDate.checked : true,
      min: numberOrNull(ui.min),
      max: numberOrNull(ui.max),
      unknownInv: ui.unknown.checked,
    };
  }

  function apply() {
    layer.applyFilter(current());
  }

  function summary() {
    var total = layer.shownTotal;
    ui.shown.textContent = t.filter_shown
      .replace("{n}", num(total.n, 0))
      .replace("{inv}", num(total.inv, 2));
  }

  if (ui.play) wireYearPlay(ui, apply);
  var box = ctl.getContainer();
  box.addEventListener("change", function (e) {
    if (e.target !== ui.search) apply();
  });
  box.addEventListener("input", function (e) {
    if (e.target === ui.year || e.target === ui.min || e.target === ui.max) apply();
  });
  map.on("pm:filtered", summary);
  wireSearch(s, ui);
  fitPanel(map, box);
  s.filters = { apply: apply, current: current, ui: ui };
  return ctl;
}
