/* controls.js — Leaflet controls (title, full screen, note) and the interactive parts of the
 * filter panel: the search box and the year slider's play button. */

function control(map, position, build) {
  var Ctl = L.Control.extend({
    onAdd: function () {
      var box = build();
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  return new Ctl({ position: position }).addTo(map);
}

/** Title and summary line, top left, above the zoom buttons. */
function addTitle(map, cfg) {
  var ctl = control(map, "topleft", function () {
    var box = el("div", "pm-box pm-title");
    box.appendChild(el("h1", null, cfg.title));
    if (cfg.summary) box.appendChild(el("p", null, cfg.summary));
    return box;
  });
  var node = ctl.getContainer();
  node.parentNode.insertBefore(node, node.parentNode.firstChild);
  return ctl;
}

/** A full-screen button using the browser's Fullscreen API. */
function addFullscreen(map) {
  var t = mapState(map).t;
  var ctl = control(map, "topleft", function () {
    var bar = el("div", "leaflet-bar pm-fullscreen");
    var button = el("a", "pm-fullscreen-button");
    button.href = "#";
    button.setAttribute("role", "button");
    button.title = t.fullscreen;
    button.setAttribute("aria-label", t.fullscreen);
    button.innerHTML =
      '<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path fill="none" ' +
      'stroke="#333" stroke-width="2" d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5"/></svg>';
    L.DomEvent.on(button, "click", function (e) {
      L.DomEvent.preventDefault(e);
      var box = map.getContainer();
      if (document.fullscreenElement) document.exitFullscreen();
      else if (box.requestFullscreen) box.requestFullscreen();
    });
    document.addEventListener("fullscreenchange", function () {
      var on = document.fullscreenElement === map.getContainer();
      button.title = on ? t.exit_fullscreen : t.fullscreen;
      map.getContainer().classList.toggle("pm-is-fullscreen", on);
      map.invalidateSize();
    });
    if (!document.fullscreenEnabled) bar.style.display = "none";
    bar.appendChild(button);
    return bar;
  });
  return ctl;
}

/** Data note, bottom left: one line each. */
function addNote(map, cfg) {
  return control(map, "bottomleft", function () {
    var box = el("div", "pm-box pm-note");
    cfg.lines.forEach(function (line) {
      box.appendChild(el("div", null, line));
    });
    return box;
  });
}

/**
 * The play button of the year slider (ui.play, ui.year): steps the slider a year every
 * runtime.playStepMs and refilters (apply); a hand on the slider stops it.
 */
function wireYearPlay(ui, apply) {
  var playing = null;
  function stopPlaying() {
    if (playing === null) return;
    clearInterval(playing);
    playing = null;
    ui.play.textContent = "\u25b6";
    ui.play.classList.remove("pm-playing");
  }
  function step() {
    if (+ui.year.value >= +ui.year.max) return stopPlaying();
    ui.year.value = String(+ui.year.value + 1);
    apply();
    if (+ui.year.value >= +ui.year.max) stopPlaying();
  }
  ui.play.addEventListener("click", function () {
    if (playing !== null) return stopPlaying();
    if (+ui.year.value >= +ui.year.max) {
      ui.year.value = ui.year.min;
      apply();
    }
    ui.play.textContent = "\u23f8";
    ui.play.classList.add("pm-playing");
    playing = setInterval(step, runtime.playStepMs);
  });
  ui.year.addEventListener("input", stopPlaying); // the hand on the slider wins
}

/**
 * The search box (ui.search) and its list of matches (ui.results): typing lists up to ten
 * projects whose name contains the text; a match (or Enter: the first) zooms to the project.
 */
function wireSearch(s, ui) {
  var t = s.t;
  var layer = s.layers.projects;
  // The list stays as it is: Leaflet decides whether a click belongs to a control by walking
  // up from the clicked element, so removing the button here would let the map close the popup.
  function choose(i) {
    showProject(s, i);
  }

  function listMatches() {
    ui.results.textContent = "";
    var text = ui.search.value;
    if (!text.trim()) return [];
    var found = searchProjects(s, text, 10);
    if (!found.length) ui.results.appendChild(el("li", "pm-none", t.search_none));
    found.forEach(function (i) {
      var item = el("li");
      var button = el("button", "pm-result", layer.c.name[i]);
      button.type = "button";
      button.addEventListener("click", function () {
        choose(i);
      });
      item.appendChild(button);
      ui.results.appendChild(item);
    });
    return found;
  }
  ui.search.addEventListener("input", listMatches);
  ui.search.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    var found = listMatches();
    if (found.length) choose(found[0]);
  });
}
