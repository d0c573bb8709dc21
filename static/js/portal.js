// Small behaviours the pages share; delegated so they survive htmx swaps.
(function () {
  "use strict";

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-toggle-menu]");
    if (toggle) {
      var menu = document.querySelector(toggle.getAttribute("data-toggle-menu"));
      var open = menu.classList.toggle("show");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var dismiss = ev.target.closest("[data-dismiss]");
    if (dismiss) { dismiss.closest(".alert").remove(); return; }
    var confirmBtn = ev.target.closest("[data-confirm]");
    if (confirmBtn && !window.confirm(confirmBtn.getAttribute("data-confirm"))) { ev.preventDefault(); return; }
    var matching = ev.target.closest("[data-select-matching]");
    if (matching) {
      var form = matching.closest("form");
      form.querySelector("[name=all_matching]").value = "1";
      matching.hidden = true;
      form.querySelector("[data-page-selected]").hidden = true;
      form.querySelector("[data-all-selected]").hidden = false;
      updateBulk(form);
    }
  });

  document.addEventListener("change", function (ev) {
    var form = ev.target.closest("#bulk-form");
    if (!form) {
      return;
    }
    if (ev.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[name=ids]").forEach(function (cb) { cb.checked = ev.target.checked; });
    }
    if (ev.target.matches("[name=action]")) {
      form.querySelector("[data-tag-input]").hidden = ev.target.value !== "tag";
    }
    if (ev.target.matches("input[name=ids], [data-select-all]")) {
      form.querySelector("[name=all_matching]").value = "0";
      updateBulk(form);
    }
  });

  function updateBulk(form) {
    var boxes = form.querySelectorAll("input[name=ids]");
    var checked = form.querySelectorAll("input[name=ids]:checked").length;
    var all = form.querySelector("[name=all_matching]").value === "1";
    var bar = form.querySelector("[data-bulk-bar]");
    var banner = form.querySelector("[data-select-banner]");
    var selectAll = form.querySelector("[data-select-all]");
    if (selectAll) { selectAll.checked = boxes.length > 0 && checked === boxes.length; }
    var pageFull = boxes.length > 0 && checked === boxes.length;
    if (banner) {
      banner.hidden = !pageFull && !all;
      if (!all) {
        banner.querySelector("[data-page-selected]").hidden = false;
        var m = banner.querySelector("[data-select-matching]");
        if (m) { m.hidden = false; }
        banner.querySelector("[data-all-selected]").hidden = true;
      }
    }
    if (bar) {
      bar.hidden = checked === 0 && !all;
      var count = all ? Number(form.getAttribute("data-total")) : checked;
      bar.querySelector("[data-selected-count]").textContent = "(" + count.toLocaleString() + ")";
    }
  }

  // A read-only field whose whole value is meant to be copied (a new API key) selects itself.
  document.addEventListener("focusin", function (ev) {
    if (ev.target.matches("[data-select-on-focus]")) { ev.target.select(); }
  });

  // Keep the export link in step with the filters after an htmx swap of the store list.
  document.addEventListener("htmx:afterSettle", function () {
    var link = document.getElementById("export-link");
    if (link) { link.search = window.location.search; }
  });

  // Show or hide the node / store fields of the user form by role.
  function syncUserPlace() {
    var role = document.querySelector("select[name=role]");
    if (!role) { return; }
    var store = role.value === "store_owner";
    document.querySelectorAll("[data-place=node]").forEach(function (el) { el.hidden = store; });
    document.querySelectorAll("[data-place=store]").forEach(function (el) { el.hidden = !store; });
  }
  document.addEventListener("change", function (ev) { if (ev.target.matches("select[name=role]")) { syncUserPlace(); } });
  document.addEventListener("DOMContentLoaded", syncUserPlace);
})();
