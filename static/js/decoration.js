// Decoration editor behaviours; delegated so they survive htmx swaps.
(function () {
  "use strict";

  // Show only the fields that apply: "category" for goods by category, codes for hand-picked ones.
  function syncWhen(root) {
    (root || document).querySelectorAll("[data-block-form]").forEach(function (form) {
      form.querySelectorAll("[data-when]").forEach(function (el) {
        var rule = el.getAttribute("data-when").split("=");
        var select = form.querySelector("[name='" + rule[0] + "']");
        if (select) { el.hidden = select.value !== rule[1]; }
      });
    });
  }

  document.addEventListener("change", function (ev) {
    if (ev.target.closest("[data-block-form]")) { syncWhen(); }
  });

  // A block in the phone preview opens its panel with Enter or Space too.
  document.addEventListener("keydown", function (ev) {
    var block = ev.target.closest(".mp-block.is-clickable");
    if (block && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); block.click(); }
  });

  document.addEventListener("htmx:afterSettle", function () {
    syncWhen();
    var panel = document.getElementById("block-panel");
    if (panel) {
      var box = panel.getBoundingClientRect();
      if (box.top < 0 || box.top > window.innerHeight - 120) {
        panel.closest(".block-row").scrollIntoView({ behavior: "smooth", block: "start" });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () { syncWhen(); });
})();
