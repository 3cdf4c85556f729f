// covcore HTML report: sorting and filtering the index, toggling highlights,
// keyboard navigation.  No dependencies, no network; works from file://.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  function store(key, value) {
    try { localStorage.setItem("covcore." + key, JSON.stringify(value)); } catch (e) { /* file:// may forbid it */ }
  }
  function load(key) {
    try { var v = localStorage.getItem("covcore." + key); return v === null ? null : JSON.parse(v); } catch (e) { return null; }
  }

  function typing(ev) {
    var t = ev.target;
    return ev.ctrlKey || ev.metaKey || ev.altKey ||
      (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable));
  }

  // -- keyboard help ------------------------------------------------------------
  var help = { toggle: function () {}, hide: function () {}, shown: function () { return false; } };
  function setupHelp() {
    var panel = $("#help_panel"), button = $("#keyboard_icon"), close = $("#help_close");
    if (!panel || !button) { return; }
    function show(on) {
      panel.hidden = !on;
      button.setAttribute("aria-expanded", on ? "true" : "false");
    }
    help = {
      toggle: function () { show(panel.hidden); },
      hide: function () { show(false); },
      shown: function () { return !panel.hidden; }
    };
    button.addEventListener("click", help.toggle);
    if (close) { close.addEventListener("click", help.hide); }
  }

  // -- percentages, as the report shows them ---------------------------------------
  function displayCovered(num, den, precision) {
    var pc = den > 0 ? 100 * num / den : 100;
    var near0 = 1 / Math.pow(10, precision);
    if (pc > 0 && pc < near0) { pc = near0; }
    else if (pc > 100 - near0 && pc < 100) { pc = 100 - near0; }
    return pc.toFixed(precision) + "%";
  }

  // -- index page -----------------------------------------------------------------
  function setupIndex() {
    var table = $("table.index");
    if (!table) { return; }
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var headers = $$("thead th", table);
    var precision = parseInt(table.getAttribute("data-precision") || "0", 10);
    var filter = $("#filter"), hide100 = $("#hide100"), noRows = $("#no_rows");
    var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
    var originalFoot = $$("tfoot td", table).map(function (td) { return td.textContent; });

    function value(row, col) {
      var cell = row.cells[col];
      var v = cell.getAttribute("data-sort-value");
      return v === null ? cell.textContent : v;
    }

    function sortBy(col, dir) {
      var th = headers[col];
      if (!dir) { dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending"; }
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir);
      var numeric = th.getAttribute("data-type") === "number";
      var sorted = Array.prototype.slice.call(tbody.rows).sort(function (a, b) {
        var r = numeric ? parseFloat(value(a, col)) - parseFloat(value(b, col))
                        : collator.compare(value(a, col), value(b, col));
        if (r === 0) { r = collator.compare(value(a, 0), value(b, 0)); }
        return dir === "ascending" ? r : -r;
      });
      sorted.forEach(function (row) { tbody.appendChild(row); });
      store("sort", { col: th.getAttribute("data-col"), dir: dir });
    }
    headers.forEach(function (th, col) {
      var button = $("button", th) || th;
      button.addEventListener("click", function () { sortBy(col); });
    });

    function apply() {
      var text = filter ? filter.value.trim().toLowerCase() : "";
      var hideCovered = hide100 ? hide100.checked : false;
      var sums = headers.map(function () { return 0; });
      var num = 0, den = 0, shown = 0;
      rows.forEach(function (row) {
        var name = row.cells[0].textContent.toLowerCase();
        var visible = (!text || name.indexOf(text) !== -1) &&
          !(hideCovered && row.getAttribute("data-covered") === "1");
        row.hidden = !visible;
        if (!visible) { return; }
        shown += 1;
        for (var c = 1; c < headers.length - 1; c++) { sums[c] += parseInt(value(row, c), 10) || 0; }
        var ratio = (row.cells[headers.length - 1].getAttribute("data-ratio") || "0 0").split(" ");
        num += parseInt(ratio[0], 10); den += parseInt(ratio[1], 10);
      });
      var foot = $$("tfoot td", table);
      if (!text && !hideCovered) {
        foot.forEach(function (td, i) { td.textContent = originalFoot[i]; });
      } else {
        for (var c = 1; c < headers.length - 1; c++) { foot[c].textContent = String(sums[c]); }
        foot[headers.length - 1].textContent = displayCovered(num, den, precision);
      }
      if (noRows) { noRows.hidden = shown > 0; }
      table.classList.toggle("filtered", !!text || hideCovered);
    }
    if (filter) { filter.addEventListener("input", apply); }
    if (hide100) {
      hide100.addEventListener("change", function () { store("hide100", hide100.checked); apply(); });
      if (load("hide100")) { hide100.checked = true; }
    }
    var saved = load("sort");
    if (saved) {
      headers.forEach(function (th, col) {
        if (th.getAttribute("data-col") === saved.col && (saved.dir === "ascending" || saved.dir === "descending")) {
          sortBy(col, saved.dir);
        }
      });
    }
    apply();

    var keyCols = { n: "name", s: "statements", m: "missing", x: "excluded", b: "branches", p: "partial", c: "coverage" };
    document.addEventListener("keydown", function (ev) {
      if (typing(ev)) { return; }
      var body = document.body;
      if (ev.key === "/" && filter) { ev.preventDefault(); filter.focus(); return; }
      if (ev.key === "]") { window.location.href = body.getAttribute("data-first"); return; }
      if (ev.key === "[") { window.location.href = body.getAttribute("data-last"); return; }
      if (keyCols[ev.key]) {
        headers.forEach(function (th, col) { if (th.getAttribute("data-col") === keyCols[ev.key]) { sortBy(col); } });
      }
    });
  }

  // -- per-file page ----------------------------------------------------------------
  function setupFile() {
    var source = $("#source");
    if (!source) { return; }
    var body = document.body;
    var categories = ["run", "mis", "exc", "par"];

    function setShown(cat, on) {
      var button = $('button.toggle[data-category="' + cat + '"]');
      if (!button) { return; }
      button.setAttribute("aria-pressed", on ? "true" : "false");
      body.classList.toggle("hide_" + cat, !on);
    }
    function toggle(cat) {
      var button = $('button.toggle[data-category="' + cat + '"]');
      if (!button) { return; }
      var on = button.getAttribute("aria-pressed") !== "true";
      setShown(cat, on);
      var saved = load("toggles") || {};
      saved[cat] = on;
      store("toggles", saved);
    }
    $$("button.toggle").forEach(function (button) {
      button.addEventListener("click", function () { toggle(button.getAttribute("data-category")); });
    });
    var saved = load("toggles") || {};
    categories.forEach(function (cat) { if (saved[cat] === false) { setShown(cat, false); } });

    // Chunks: runs of consecutive missing or partial lines.
    var chunks = [];
    var current = null;
    $$("#source .line").forEach(function (line) {
      if (line.classList.contains("mis") || line.classList.contains("par")) {
        if (!current) { current = []; chunks.push(current); }
        current.push(line);
      } else {
        current = null;
      }
    });
    var selected = -1;

    function select(i) {
      if (!chunks.length) { return; }
      i = Math.max(0, Math.min(chunks.length - 1, i));
      if (selected >= 0) { chunks[selected].forEach(function (l) { l.classList.remove("highlight"); }); }
      selected = i;
      chunks[i].forEach(function (l) { l.classList.add("highlight"); });
      chunks[i][0].scrollIntoView({ block: "center" });
      body.setAttribute("data-selected", chunks[i][0].id.slice(1));
    }
    function firstBelowTop() {
      var headerBottom = $("header").getBoundingClientRect().bottom;
      for (var i = 0; i < chunks.length; i++) {
        if (chunks[i][0].getBoundingClientRect().top >= headerBottom) { return i; }
      }
      return chunks.length - 1;
    }
    function next() { select(selected < 0 ? firstBelowTop() : selected + 1); }
    function prev() { select(selected < 0 ? firstBelowTop() - 1 : selected - 1); }

    document.addEventListener("keydown", function (ev) {
      if (typing(ev)) { return; }
      switch (ev.key) {
        case "j": next(); break;
        case "k": prev(); break;
        case "1": select(0); break;
        case "0": window.scrollTo(0, 0); break;
        case "r": toggle("run"); break;
        case "m": toggle("mis"); break;
        case "x": toggle("exc"); break;
        case "p": toggle("par"); break;
        case "]": window.location.href = body.getAttribute("data-next"); break;
        case "[": window.location.href = body.getAttribute("data-prev"); break;
        case "u": window.location.href = body.getAttribute("data-index"); break;
        default: return;
      }
      ev.preventDefault();
    });
  }

  function setup() {
    setupHelp();
    setupIndex();
    setupFile();
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { help.hide(); return; }
      if (typing(ev)) { return; }
      if (ev.key === "?") { help.toggle(); ev.preventDefault(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
}());
