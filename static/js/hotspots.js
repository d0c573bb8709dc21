// Hotspots drawn on the picture (the image-hotspot block's form, templates/decoration/_block_form.html).
// Drag on the picture to draw an area, drag an area to move it, its corner to resize it, × to
// remove it. The areas live in the form's rows as whole percents (x, y, w, h), exactly what the
// numeric fields (folded under each row, the keyboard's way in) hold and what the block stores.
(function () {
  "use strict";

  var KEYS = ["x", "y", "w", "h"];

  function field(row, key) { return row.querySelector("[name$='-" + key + "']"); }

  function value(row) {
    var v = {};
    for (var i = 0; i < KEYS.length; i++) {
      var input = field(row, KEYS[i]);
      var n = input ? parseInt(input.value, 10) : NaN;
      if (isNaN(n)) { return null; }
      v[KEYS[i]] = n;
    }
    return v.w > 0 && v.h > 0 ? v : null;
  }

  function write(row, v) {
    KEYS.forEach(function (k) {
      var input = field(row, k);
      input.value = v ? String(v[k]) : "";
    });
  }

  function isFree(row) {
    return ["x", "y", "w", "h", "link"].every(function (k) { var f = field(row, k); return !f || !f.value; });
  }

  function rowsOf(editor) {
    var form = editor.closest("form");
    return Array.prototype.slice.call(form.querySelectorAll("[data-hotspot-rows] .row-card"));
  }

  function reveal(editor) {
    // Used rows are shown; of the unused ones, exactly one stays visible to type into.
    var spareShown = false;
    rowsOf(editor).forEach(function (row, i) {
      var free = isFree(row) && i > 0;
      row.classList.toggle("is-blank", free);
      if (free) {
        row.classList.toggle("is-spare", spareShown);
        spareShown = true;
      } else {
        row.classList.remove("is-spare");
      }
    });
  }

  function render(editor, active) {
    editor.querySelectorAll(".hotspot-rect").forEach(function (el) { el.remove(); });
    rowsOf(editor).forEach(function (row, i) {
      var v = value(row);
      if (!v) { return; }
      var rect = document.createElement("div");
      rect.className = "hotspot-rect" + (i === active ? " is-active" : "");
      rect.setAttribute("data-hotspot", String(i));
      rect.style.left = v.x + "%";
      rect.style.top = v.y + "%";
      rect.style.width = v.w + "%";
      rect.style.height = v.h + "%";
      var label = document.createElement("span");
      label.className = "hs-label";
      label.textContent = "#" + (i + 1);
      var handle = document.createElement("span");
      handle.className = "hs-handle";
      handle.setAttribute("data-resize", "");
      var del = document.createElement("button");
      del.type = "button";
      del.className = "hs-delete";
      del.setAttribute("data-remove", "");
      del.setAttribute("aria-label", editor.getAttribute("data-remove-label") || "×");
      del.textContent = "×";
      rect.appendChild(label); rect.appendChild(handle); rect.appendChild(del);
      editor.appendChild(rect);
    });
  }

  function clamp(n, lo, hi) { return Math.max(lo, Math.min(hi, n)); }

  function pointAt(editor, ev) {
    var box = editor.querySelector("[data-hotspot-image]").getBoundingClientRect();
    return { x: clamp(100 * (ev.clientX - box.left) / box.width, 0, 100),
             y: clamp(100 * (ev.clientY - box.top) / box.height, 0, 100) };
  }

  function setup(editor) {
    if (editor.hasAttribute("data-ready")) { return; }
    editor.setAttribute("data-ready", "");
    var drag = null;

    editor.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      var rows = rowsOf(editor);
      var rectEl = ev.target.closest(".hotspot-rect");
      var p = pointAt(editor, ev);
      if (rectEl && ev.target.closest("[data-remove]")) {
        var gone = rows[parseInt(rectEl.getAttribute("data-hotspot"), 10)];
        write(gone, null);
        var link = field(gone, "link");
        if (link) { link.value = ""; }
        render(editor); reveal(editor);
        ev.preventDefault();
        return;
      }
      if (rectEl) {
        var i = parseInt(rectEl.getAttribute("data-hotspot"), 10);
        drag = { mode: ev.target.closest("[data-resize]") ? "resize" : "move", row: rows[i], index: i,
                 start: p, from: value(rows[i]) };
      } else {
        var row = rows.filter(isFree)[0];      // the first unused row takes the new area
        if (!row) { return; }
        drag = { mode: "draw", row: row, index: rows.indexOf(row), start: p };
      }
      editor.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });

    editor.addEventListener("pointermove", function (ev) {
      if (!drag) { return; }
      var p = pointAt(editor, ev);
      var v;
      if (drag.mode === "draw") {
        var x = Math.round(Math.min(drag.start.x, p.x)), y = Math.round(Math.min(drag.start.y, p.y));
        v = { x: x, y: y, w: Math.round(Math.max(drag.start.x, p.x)) - x, h: Math.round(Math.max(drag.start.y, p.y)) - y };
      } else if (drag.mode === "move") {
        var f = drag.from;
        v = { x: clamp(Math.round(f.x + p.x - drag.start.x), 0, 100 - f.w),
              y: clamp(Math.round(f.y + p.y - drag.start.y), 0, 100 - f.h), w: f.w, h: f.h };
      } else {
        var g = drag.from;
        v = { x: g.x, y: g.y, w: clamp(Math.round(p.x) - g.x, 1, 100 - g.x), h: clamp(Math.round(p.y) - g.y, 1, 100 - g.y) };
      }
      if (v.w < 1 || v.h < 1) { return; }
      write(drag.row, v);
      render(editor, drag.index);
    });

    function finish() {
      if (!drag) { return; }
      var done = drag;
      drag = null;
      var v = value(done.row);
      if (done.mode === "draw" && (!v || v.w < 2 || v.h < 2)) { write(done.row, null); }
      render(editor);
      reveal(editor);
      if (done.mode === "draw" && value(done.row)) {
        var link = field(done.row, "link");
        if (link && !link.value) { link.focus({ preventScroll: true }); }
      }
    }
    editor.addEventListener("pointerup", finish);
    editor.addEventListener("pointercancel", finish);
    render(editor);
  }

  function setupAll() { document.querySelectorAll("[data-hotspot-editor]").forEach(setup); }

  // The numbers typed by hand, and a new picture, show on the drawing at once.
  document.addEventListener("input", function (ev) {
    var form = ev.target.closest("form");
    var editor = form && form.querySelector("[data-hotspot-editor]");
    if (!editor) { return; }
    if (ev.target.id === editor.getAttribute("data-image-input")) {
      editor.querySelector("[data-hotspot-image]").src = ev.target.value;
    }
    render(editor);
    if (ev.target.closest("[data-hotspot-rows]")) { reveal(editor); }
  });

  document.addEventListener("DOMContentLoaded", setupAll);
  document.addEventListener("htmx:afterSettle", setupAll);
})();
