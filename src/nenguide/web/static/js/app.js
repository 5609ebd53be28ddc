// A little plain JS. Pages work without it: forms post, links navigate.
(function () {
  "use strict";
  // Drafts: the case form is kept in this browser while typed and restored after a lost session
  // or a closed tab; the server also re-shows a draft that failed validation, as typed.
  var form = document.querySelector("form[data-draft]");
  if (form) {
    var key = "nenguide-draft:" + form.getAttribute("data-draft");
    var note = document.getElementById("draft-note");
    var save = function () {
      var out = [];
      new FormData(form).forEach(function (v, k) { if (k !== "csrf" && typeof v === "string") out.push([k, v]); });
      try { localStorage.setItem(key, JSON.stringify(out)); } catch (e) { /* storage full or off */ }
    };
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && form.getAttribute("data-has-errors") !== "1") {
      saved.forEach(function (pair) {
        var els = form.querySelectorAll('[name="' + CSS.escape(pair[0]) + '"]');
        els.forEach(function (el) {
          if (el.type === "radio" || el.type === "checkbox") { if (el.value === pair[1]) el.checked = true; }
          else if (el.type !== "hidden") el.value = pair[1];
        });
      });
      if (note) note.hidden = false;
    }
    var discard = document.getElementById("draft-discard");
    if (discard) discard.addEventListener("click", function () { localStorage.removeItem(key); location.reload(); });
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function (ev) {
      if (ev.submitter && ev.submitter.name === "_save") { localStorage.removeItem(key); }
    });
  }
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  // Board mode keys: arrows move between cases, D jumps to the decision, W opens the "why"s,
  // L switches the language.
  if (document.body.classList.contains("board")) {
    document.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      var link = null;
      if (ev.key === "ArrowRight") link = document.querySelector('a[rel="next"]');
      if (ev.key === "ArrowLeft") link = document.querySelector('a[rel="prev"]');
      if (link) { location.href = link.href; return; }
      if (ev.key === "d" || ev.key === "D") { var f = document.querySelector("#decision-form input, #decision-form select"); if (f) { f.focus(); ev.preventDefault(); } }
      if (ev.key === "l" || ev.key === "L") { var other = document.querySelector('button[name="lang"][aria-pressed="false"]'); if (other) other.click(); }
      if (ev.key === "w" || ev.key === "W") { document.querySelectorAll("details.why").forEach(function (d) { d.open = !d.open; }); }
    });
  }
})();
