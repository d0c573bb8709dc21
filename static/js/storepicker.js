// The store picker (templates/targets/_fields.html) and the store list's bulk-action guards
// (templates/org/_store_rows.html). Delegated, so both survive htmx swaps.
(function () {
  "use strict";

  function fill(template, n) {
    return template.split("{n}").join(Number(n).toLocaleString());
  }

  // Tell the form its selection changed: the reach box listens for "change" on the form.
  function changed(el) {
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // ------------------------------------------------------------------ the org tree
  // A ticked organization means all of its stores: the boxes below it show as ticked and
  // disabled (a disabled box is not posted, the ticked one above says it all).
  function syncTree(tree) {
    tree.querySelectorAll("[data-tree-check]").forEach(function (box) {
      var above = box.closest("li").parentElement.closest("li");
      var covered = false;
      while (above) {
        var own = above.querySelector(":scope > .picker-row [data-tree-check]");
        if (own && own.checked && !own.disabled) { covered = true; break; }
        above = above.parentElement.closest("li");
      }
      if (covered) {
        if (!box.disabled) { box.setAttribute("data-own", box.checked ? "1" : "0"); }
        box.checked = true;
        box.disabled = true;
      } else if (box.disabled) {
        box.disabled = false;
        box.checked = box.getAttribute("data-own") === "1";
      }
    });
  }

  function syncAllTrees() {
    document.querySelectorAll("[data-picker-tree]").forEach(syncTree);
  }

  // ------------------------------------------------------------------ chips
  function chipsOf(el) {
    var fields = el.closest(".target-fields") || document.querySelector(".target-fields");
    return fields ? fields.querySelector("[data-picker-chips]") : null;
  }

  function syncEmpty(chips) {
    var empty = chips.querySelector("[data-chips-empty]");
    if (empty) { empty.hidden = chips.querySelector(".picker-chip") !== null; }
  }

  function chip(kind, value, parts, removeLabel) {
    var span = document.createElement("span");
    span.className = "picker-chip" + (kind === "filters" ? " picker-chip-filter" : "");
    span.setAttribute(kind === "filters" ? "data-chip-filter" : "data-chip-store", value);
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = kind;
    input.value = value;
    span.appendChild(input);
    parts.forEach(function (p) {
      if (p.secondary) {
        var s = document.createElement("span");
        s.className = "text-secondary";
        s.textContent = p.text;
        span.appendChild(s);
        span.appendChild(document.createTextNode(" "));
      } else {
        span.appendChild(document.createTextNode(p.text));
      }
    });
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-chip-remove", "");
    close.setAttribute("aria-label", removeLabel);
    span.appendChild(close);
    return span;
  }

  function picked(chips) {
    var ids = {};
    chips.querySelectorAll("[data-chip-store]").forEach(function (c) { ids[c.getAttribute("data-chip-store")] = true; });
    return ids;
  }

  // ------------------------------------------------------------------ the dialog
  // Ticked rows are remembered across searches and pages until they are added (or the
  // dialog is closed): a store ticked on page 1 is still ticked when page 3 is shown.
  var pending = {};

  function syncDialog(modal) {
    var chips = chipsOf(modal);
    var have = chips ? picked(chips) : {};
    modal.querySelectorAll("input[data-pick]").forEach(function (b) {
      if (have[b.value]) { b.checked = true; b.disabled = true; delete pending[b.value]; }
      else { b.disabled = false; b.checked = !!pending[b.value]; }
    });
    var ticked = Object.keys(pending).length;
    var page = modal.querySelector("[data-pick-page]");
    if (page) {
      var open = modal.querySelectorAll("input[data-pick]:not(:disabled)").length;
      page.checked = open > 0 && ticked === open;
    }
    var label = modal.querySelector("[data-pick-chosen]");
    if (label) { label.textContent = ticked ? fill(modal.getAttribute("data-chosen-template"), ticked) : ""; }
    modal.querySelector("[data-pick-add]").disabled = ticked === 0;
  }

  function setUpDialog(modal) {
    if (modal.hasAttribute("data-ready")) { return; }
    modal.setAttribute("data-ready", "");
    // The dialog sits inside the target form: its typing and ticking is not the form's
    // selection changing (and Enter in its search box must not submit the form).
    ["change", "input"].forEach(function (type) {
      modal.addEventListener(type, function (ev) {
        if (ev.target.matches("[data-pick-page]")) {
          modal.querySelectorAll("input[data-pick]:not(:disabled)").forEach(function (b) { b.checked = ev.target.checked; });
        }
        if (ev.target.matches("input[data-pick], [data-pick-page]")) {
          modal.querySelectorAll("input[data-pick]:not(:disabled)").forEach(function (b) {
            if (b.checked) { pending[b.value] = { code: b.getAttribute("data-code"), name: b.getAttribute("data-name") }; }
            else { delete pending[b.value]; }
          });
        }
        if (ev.target.matches("input[data-pick], [data-pick-page]")) { syncDialog(modal); }
        ev.stopPropagation();
      });
    });
    modal.addEventListener("hidden.bs.modal", function () {
      pending = {};
      modal.querySelectorAll("input[data-pick]:checked:not(:disabled)").forEach(function (b) { b.checked = false; });
      syncDialog(modal);
    });
    modal.addEventListener("show.bs.modal", function () { syncDialog(modal); });
    modal.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && ev.target.matches("input")) { ev.preventDefault(); }
    });
    modal.addEventListener("click", function (ev) {
      var chips = chipsOf(modal);
      if (!chips) { return; }
      var removeLabel = modal.getAttribute("data-remove-label");
      if (ev.target.closest("[data-pick-add]")) {
        var have = picked(chips);
        Object.keys(pending).forEach(function (id) {
          if (have[id]) { return; }
          chips.insertBefore(chip("store_ids", id, [{ text: pending[id].code, secondary: true },
            { text: pending[id].name }], removeLabel), chips.querySelector("[data-chips-empty]"));
        });
        pending = {};
        syncEmpty(chips);
        changed(chips);
        return;
      }
      var all = ev.target.closest("[data-pick-all]");
      if (all) {
        var query = all.getAttribute("data-filter");
        if (!chips.querySelector("[data-chip-filter='" + CSS.escape(query) + "']")) {
          var text = modal.getAttribute("data-filter-template").split("{filter}").join(all.getAttribute("data-label"));
          chips.insertBefore(chip("filters", query, [{ text: text }], removeLabel), chips.querySelector("[data-chips-empty]"));
        }
        syncEmpty(chips);
        changed(chips);
      }
    });
  }

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("[data-tree-toggle]");
    if (toggle) {
      var list = toggle.closest("li").querySelector(":scope > .picker-children");
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (list) { list.hidden = !open; }
      return;
    }
    var remove = ev.target.closest("[data-chip-remove]");
    if (remove) {
      var chips = remove.closest("[data-picker-chips]");
      remove.closest(".picker-chip").remove();
      syncEmpty(chips);
      changed(chips);
    }
  });

  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-tree-check]")) { syncTree(ev.target.closest("[data-picker-tree]")); }
  });

  // ------------------------------------------------------------------ bulk actions on the store list
  // No action is chosen until the user picks one; the confirmation names it and the count.
  function syncBulk(form) {
    var action = form.querySelector("[data-bulk-action]");
    var apply = form.querySelector("[data-bulk-apply]");
    if (!action || !apply) { return; }
    var option = action.value ? form.querySelector("[data-bulk-choose='" + action.value + "']") : null;
    var all = form.querySelector("[name=all_matching]").value === "1";
    var count = all ? Number(form.getAttribute("data-total")) : form.querySelectorAll("input[name=ids]:checked").length;
    var ready = option !== null && count > 0;
    apply.disabled = !ready;
    if (ready) {
      apply.setAttribute("data-confirm", fill(option.getAttribute(count === 1 ? "data-confirm-one" : "data-confirm-other"), count));
      apply.setAttribute("data-confirm-title", option.getAttribute("data-title"));
      apply.setAttribute("data-confirm-ok", option.getAttribute("data-ok"));
    } else {
      apply.removeAttribute("data-confirm");
    }
  }

  // Choosing an action in the menu: it becomes the menu's label and the form's action.
  function chooseBulk(item) {
    var form = item.closest("#bulk-form");
    var value = item.getAttribute("data-bulk-choose");
    form.querySelector("[data-bulk-action]").value = value;
    form.querySelectorAll("[data-bulk-choose]").forEach(function (i) {
      i.classList.toggle("active", i === item);
      i.setAttribute("aria-current", i === item ? "true" : "false");
    });
    form.querySelector("[data-bulk-menu]").textContent = item.textContent.trim();
    var tag = form.querySelector("[data-tag-input]");
    if (tag) {
      tag.hidden = value !== "tag";
      if (value === "tag") { tag.focus(); }
    }
  }

  function bulkEvent(ev) {
    var form = ev.target.closest && ev.target.closest("#bulk-form");
    if (!form) { return; }
    var item = ev.type === "click" && ev.target.closest("[data-bulk-choose]");
    if (item) { chooseBulk(item); }
    syncBulk(form);
  }
  document.addEventListener("change", bulkEvent);
  document.addEventListener("click", bulkEvent);

  // A button whose confirmation names the reach ("… in the stores chosen (1,204 stores)?"):
  // filled from the reach box each time it is swapped.
  function syncReachConfirm() {
    var reach = document.querySelector("#reach [data-reach]");
    document.querySelectorAll("[data-confirm-reach]").forEach(function (btn) {
      if (reach) { btn.setAttribute("data-confirm", fill(btn.getAttribute("data-confirm-reach"), reach.getAttribute("data-reach"))); }
    });
  }

  function setUp() {
    syncAllTrees();
    syncReachConfirm();
    document.querySelectorAll("[data-store-picker]").forEach(function (m) { setUpDialog(m); syncDialog(m); });
    document.querySelectorAll("#bulk-form").forEach(syncBulk);
  }
  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
