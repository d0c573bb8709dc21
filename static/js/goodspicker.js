// The goods picker (templates/goods/_picker.html): a modal listing the goods library, paged and
// searched by the server; what is ticked survives paging and searching, and "add" hands it to
// the page that opened the picker (the button's data-picker-into). Delegated: survives swaps.
(function () {
  "use strict";

  var state = { into: null, chosen: new Map() };

  function modalOf(el) { return el.closest("[data-goods-picker]"); }

  // Codes the consumer already holds: rows (data-key), hidden inputs or a text field of codes.
  function held(into) {
    var keys = new Set();
    if (!into) { return keys; }
    var fill = into.getAttribute("data-picker-fill");
    if (fill === "codes") {
      var field = document.querySelector(into.getAttribute("data-picker-field"));
      (field ? field.value : "").split(/[\s,，;；]+/).forEach(function (c) { if (c) { keys.add(c.toLowerCase()); } });
    } else {
      var holder = into.getAttribute("data-picker-held");
      (holder ? document.querySelector(holder) || into : into).querySelectorAll("[data-key]").forEach(function (el) { keys.add(el.getAttribute("data-key").toLowerCase()); });
    }
    return keys;
  }

  function refresh(modal) {
    var single = modal.getAttribute("data-single") === "1";
    var have = single ? new Set() : held(state.into);
    modal.querySelectorAll("[data-picker-choice]").forEach(function (box) {
      var key = box.getAttribute("data-code").toLowerCase();
      var already = have.has(key);
      box.disabled = already;
      box.checked = already || state.chosen.has(key);
      var badge = box.closest("label").querySelector(".picker-have");
      if (badge) { badge.hidden = !already; }
    });
    var count = modal.querySelector("[data-picker-count]");
    count.textContent = count.getAttribute("data-template").replace("{n}", state.chosen.size.toLocaleString());
    modal.querySelector("[data-picker-done]").disabled = state.chosen.size === 0;
  }

  function item(box) {
    var d = box.dataset;
    return { id: d.id, code: d.code, name: d.name, spec: d.spec || "", price: d.price || "",
             priceText: d.priceText || "", thumb: d.thumb || "" };
  }

  document.addEventListener("show.bs.modal", function (ev) {
    var modal = ev.target;
    if (!modal.matches("[data-goods-picker]")) { return; }
    var opener = ev.relatedTarget;
    state.into = opener ? document.querySelector(opener.getAttribute("data-picker-into")) : null;
    state.chosen = new Map();
    var body = modal.querySelector("[data-picker-body]");
    if (window.htmx) { window.htmx.trigger(body, "goods-picker-open"); }
    refresh(modal);
  });

  document.addEventListener("shown.bs.modal", function (ev) {
    var q = ev.target.matches("[data-goods-picker]") && ev.target.querySelector("#picker-q");
    if (q) { q.focus(); }
  });

  document.addEventListener("htmx:afterSettle", function (ev) {
    var modal = ev.target.closest && modalOf(ev.target);
    if (modal) { refresh(modal); }
  });

  document.addEventListener("change", function (ev) {
    var box = ev.target.closest("[data-picker-choice]");
    if (!box) { return; }
    var modal = modalOf(box);
    var key = box.getAttribute("data-code").toLowerCase();
    if (modal.getAttribute("data-single") === "1") { state.chosen = new Map(); }
    if (box.checked) { state.chosen.set(key, item(box)); } else { state.chosen.delete(key); }
    refresh(modal);
  });

  // A picked item into a clone of the consumer's <template>: __i__ in names and ids becomes
  // the row's index; [data-fill=x] gets the text of x, [data-fill-value=x] its value,
  // [data-fill-src] the thumbnail, [data-key] the code.
  function row(into, it, index) {
    var tpl = into.querySelector("template");
    var html = tpl.innerHTML.replace(/__i__/g, String(index));
    var holder = document.createElement(tpl.getAttribute("data-holder") || "tbody");
    holder.innerHTML = html;
    var el = holder.firstElementChild;
    el.setAttribute("data-key", it.code);
    el.querySelectorAll("[data-fill]").forEach(function (n) { n.textContent = it[n.getAttribute("data-fill")] || ""; });
    el.querySelectorAll("[data-fill-value]").forEach(function (n) { n.value = it[n.getAttribute("data-fill-value")] || ""; });
    el.querySelectorAll("[data-fill-src]").forEach(function (n) {
      if (it.thumb) { n.setAttribute("src", it.thumb); } else { n.remove(); }
    });
    return el;
  }

  function fill(into, items) {
    var how = into.getAttribute("data-picker-fill");
    if (how === "codes") {
      var field = document.querySelector(into.getAttribute("data-picker-field"));
      var codes = field.value.split(/[\s,，;；]+/).filter(Boolean);
      items.forEach(function (it) { codes.push(it.code); });
      field.value = codes.join(", ");
      field.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    if (how === "submit") {
      var name = into.getAttribute("data-picker-name");
      items.forEach(function (it) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = name; input.value = it.id;
        into.appendChild(input);
      });
      into.requestSubmit ? into.requestSubmit() : into.submit();
      return;
    }
    if (how === "one") {           // one SKU: its hidden code and what the row shows of it
      var it = items[0];
      into.querySelectorAll("[data-fill-value]").forEach(function (n) { n.value = it[n.getAttribute("data-fill-value")] || ""; });
      into.querySelectorAll("[data-fill]").forEach(function (n) { n.textContent = it[n.getAttribute("data-fill")] || ""; });
      into.querySelectorAll("[data-fill-src]").forEach(function (n) {
        n.hidden = !it.thumb;
        if (it.thumb) { n.setAttribute("src", it.thumb); }
      });
      into.querySelector("[data-picker-chosen]").hidden = false;
      into.querySelector("[data-picker-empty]").hidden = true;
      into.querySelectorAll(".invalid-feedback[data-field$='-sku']").forEach(function (n) { n.remove(); });
      var price = into.querySelector(".goods-price input");
      if (price) { price.focus(); }
      return;
    }
    var list = into.querySelector("[data-picker-rows]") || into;
    if (into.getAttribute("data-single") === "1") {
      list.querySelectorAll("[data-key]").forEach(function (el) { el.remove(); });
    }
    var next = Number(into.getAttribute("data-next-index") || "0");
    items.forEach(function (it) {
      list.appendChild(row(into, it, next));
      next += 1;
    });
    into.setAttribute("data-next-index", String(next));
    var empty = into.querySelector("[data-picker-empty]");
    if (empty) { empty.hidden = list.querySelector("[data-key]") !== null; }
    var first = list.querySelector("[data-key]:last-of-type input:not([type=hidden])");
    if (first) { first.focus(); }
  }

  document.addEventListener("click", function (ev) {
    var done = ev.target.closest("[data-picker-done]");
    if (done) {
      if (state.into && state.chosen.size) { fill(state.into, Array.from(state.chosen.values())); }
      state.chosen = new Map();
      return;
    }
    var remove = ev.target.closest("[data-picker-remove]");
    if (remove) {
      var into = remove.closest("[data-picker-fill]");
      remove.closest("[data-key]").remove();
      var empty = into && into.querySelector("[data-picker-empty]");
      if (empty) { empty.hidden = into.querySelector("[data-key]") !== null; }
    }
  });
})();
