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
    if (pending && ev.target.closest("#confirm-dialog [data-confirm-accept]")) { close(true); return; }
    if (pending && ev.target.closest("#confirm-dialog [data-bs-dismiss]")) { close(false); return; }
    var confirmBtn = ev.target.closest("[data-confirm]");
    if (confirmBtn) {
      if (confirmBtn.hasAttribute("data-confirmed")) {
        confirmBtn.removeAttribute("data-confirmed");        // the click the dialog let through
      } else if (!triggersHtmx(confirmBtn)) {                // htmx's own requests ask in htmx:confirm
        ev.preventDefault();
        ask(confirmBtn, function () { confirmBtn.setAttribute("data-confirmed", ""); confirmBtn.click(); });
        return;
      }
    }
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

  // ---- The confirmation dialog (#confirm-dialog in base.html, a Tabler/Bootstrap modal).
  // A [data-confirm] button or link goes on only once the dialog is confirmed: a submit button
  // or a link is clicked again (marked data-confirmed), an htmx request is issued. Esc, the
  // close button and 取消 cancel; Enter confirms; focus goes back to what was clicked.
  var pending = null;          // {run, trigger, accepted, closeWhenShown} while the dialog is open
  var opening = false;         // between show() and "shown": Bootstrap ignores hide() meanwhile

  function dialog() { return document.getElementById("confirm-dialog"); }
  function modalOf(el) { return window.tabler.Modal.getOrCreateInstance(el); }
  function triggersHtmx(el) {
    return ["get", "post", "put", "patch", "delete"].some(function (verb) {
      return el.hasAttribute("hx-" + verb) || el.hasAttribute("data-hx-" + verb);
    });
  }

  function ask(source, run) {
    var el = dialog();
    if (!el || !window.tabler || !window.tabler.Modal) {       // a page without the dialog
      if (window.confirm(source.getAttribute("data-confirm"))) { run(); }
      return;
    }
    if (pending) { return; }
    var title = el.querySelector("#confirm-dialog-title");
    var ok = el.querySelector("[data-confirm-accept]");
    title.textContent = source.getAttribute("data-confirm-title") || title.getAttribute("data-default");
    ok.textContent = source.getAttribute("data-confirm-ok") || ok.getAttribute("data-default");
    el.querySelector("#confirm-dialog-text").textContent = source.getAttribute("data-confirm");
    pending = { run: run, trigger: source, accepted: false, closeWhenShown: false };
    opening = true;
    modalOf(el).show();
  }

  function close(accepted) {
    if (!pending) { return; }
    if (accepted) { pending.accepted = true; }
    if (opening) { pending.closeWhenShown = true; return; }      // answered before the fade-in ended
    modalOf(dialog()).hide();
  }

  document.addEventListener("shown.bs.modal", function (ev) {
    if (ev.target !== dialog()) { return; }
    opening = false;
    if (pending && pending.closeWhenShown) { modalOf(ev.target).hide(); return; }
    ev.target.querySelector("[data-confirm-accept]").focus();
  });
  document.addEventListener("hidden.bs.modal", function (ev) {
    if (ev.target !== dialog() || !pending) { return; }
    var done = pending;
    pending = null;
    if (document.body.contains(done.trigger)) { done.trigger.focus(); }
    if (done.accepted) { done.run(); }
  });
  document.addEventListener("keydown", function (ev) {
    if (!pending) { return; }
    if (ev.key === "Escape") { ev.preventDefault(); close(false); return; }   // even before focus moved in
    if (ev.key !== "Enter" || !ev.target.closest || !ev.target.closest("#confirm-dialog")) { return; }
    if (ev.target.closest("[data-bs-dismiss]")) { return; }                   // Enter on 取消 cancels
    ev.preventDefault();
    close(true);
  });
  document.addEventListener("htmx:confirm", function (ev) {
    var elt = ev.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-confirm")) { return; }
    ev.preventDefault();
    ask(elt, function () { ev.detail.issueRequest(true); });
  });

  // ---- A push form's button: disabled while the reach box says no store, and its confirmation
  // names the count the reach box shows (targets/_reach.html carries the text).
  function syncPushButtons() {
    document.querySelectorAll("[data-push-submit]").forEach(function (btn) {
      var form = btn.closest("form");
      var reach = form && form.querySelector("#reach [data-reach]");
      btn.disabled = !reach || reach.getAttribute("data-reach") === "0";
      if (reach && reach.hasAttribute("data-confirm-text")) {
        btn.setAttribute("data-confirm", reach.getAttribute("data-confirm-text"));
      }
    });
  }
  document.addEventListener("htmx:afterSettle", syncPushButtons);
  document.addEventListener("DOMContentLoaded", syncPushButtons);

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

  // Keep the export links in step with the filters after an htmx swap of a list.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-export-link]").forEach(function (link) { link.search = window.location.search; });
  });

  // A search box over a list of choices (an owner's goods): [data-filter-list="#list"] hides the
  // list's [data-filter-item]s whose text does not contain what was typed (ticked ones stay), and
  // [data-filter-count] in the same card says how many are ticked.
  function filterList(input) {
    var list = document.querySelector(input.getAttribute("data-filter-list"));
    if (!list) { return; }
    var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    list.querySelectorAll("[data-filter-item]").forEach(function (item) {
      var box = item.querySelector("input[type=checkbox]");
      var text = item.textContent.toLowerCase();
      var show = (box && box.checked) || words.every(function (w) { return text.indexOf(w) !== -1; });
      item.hidden = !show;
      if (show) { shown += 1; }
    });
    var none = list.querySelector("[data-filter-none]");
    if (none) { none.hidden = shown > 0; }
  }
  function countTicked(list) {
    var card = list.closest(".card") || document;
    var out = card.querySelector("[data-filter-count]");
    if (out) { out.textContent = list.querySelectorAll("input[type=checkbox]:checked").length.toLocaleString(); }
  }
  document.addEventListener("input", function (ev) {
    if (ev.target.matches("[data-filter-list]")) { filterList(ev.target); }
  });
  document.addEventListener("change", function (ev) {
    var list = ev.target.closest("[data-filterable]");
    if (list && ev.target.matches("input[type=checkbox]")) { countTicked(list); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-filterable]").forEach(countTicked);
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
