// The image space's uploads (one request per file, each with its progress bar) and the two
// pickers (a Tabler modal each): images (templates/media/_picker_modal.html) and links
// (templates/core/_link_picker_modal.html). Delegated, so they survive htmx swaps.
(function () {
  "use strict";

  var picking = null;     // {input, mode: "url" | "id" | "link"}

  function modal(el) { return window.tabler.Modal.getOrCreateInstance(el); }

  function fill(input, value) {
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function openPicker(id, url, target) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var body = document.getElementById(target);
    htmx.ajax("GET", url || el.getAttribute("data-picker-url"), { target: "#" + target, swap: "innerHTML" });
    modal(el).show();
    return body;
  }

  document.addEventListener("click", function (ev) {
    var opener = ev.target.closest("[data-pick-image], [data-pick-image-id]");
    if (opener) {
      ev.preventDefault();
      var byId = opener.hasAttribute("data-pick-image-id");
      var input = document.getElementById(opener.getAttribute(byId ? "data-pick-image-id" : "data-pick-image"));
      picking = { input: input, mode: byId ? "id" : "url" };
      openPicker("media-picker", null, "media-picker-body");
      return;
    }
    var linkOpener = ev.target.closest("[data-pick-link]");
    if (linkOpener) {
      ev.preventDefault();
      picking = { input: document.getElementById(linkOpener.getAttribute("data-pick-link")), mode: "link" };
      openPicker("link-picker", null, "link-picker-body");
      return;
    }
    var picked = ev.target.closest("[data-pick-media]");
    if (picked && picking && picking.input) {
      ev.preventDefault();
      if (picking.mode === "id") {
        picking.input.value = picked.getAttribute("data-media-id");
        var form = picking.input.form;
        modal(document.getElementById("media-picker")).hide();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      } else {
        fill(picking.input, picked.getAttribute("data-media-url"));
        var thumb = picking.input.closest(".row-card") && picking.input.closest(".row-card").querySelector(".row-thumb");
        if (thumb) { thumb.src = picked.getAttribute("data-media-thumb"); }
        modal(document.getElementById("media-picker")).hide();
      }
      return;
    }
    var link = ev.target.closest("[data-link-value]");
    if (link && picking && picking.input) {
      ev.preventDefault();
      fill(picking.input, link.getAttribute("data-link-value"));
      modal(document.getElementById("link-picker")).hide();
    }
  });

  // ------------------------------------------------------------------ uploads with progress

  function row(list, name) {
    var li = document.createElement("li");
    li.className = "media-progress-row";
    var label = document.createElement("span");
    label.className = "media-progress-name";
    label.textContent = name;
    var bar = document.createElement("div");
    bar.className = "progress progress-sm";
    var fillBar = document.createElement("div");
    fillBar.className = "progress-bar";
    fillBar.setAttribute("role", "progressbar");
    bar.appendChild(fillBar);
    var note = document.createElement("span");
    note.className = "media-progress-note small";
    li.appendChild(label); li.appendChild(bar); li.appendChild(note);
    list.appendChild(li);
    return { li: li, bar: fillBar, note: note };
  }

  function send(form, file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { ui.bar.style.width = Math.round(100 * e.loaded / e.total) + "%"; }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 200) {
          ui.bar.style.width = "100%";
          ui.bar.classList.add("bg-success");
          ui.li.classList.add("is-done");
          ui.note.textContent = "✓";
        } else {
          ui.bar.classList.add("bg-danger");
          ui.li.classList.add("is-failed");
          ui.note.textContent = body && body.error ? body.error.message : xhr.statusText;
        }
        resolve(xhr.status === 200);
      });
      xhr.addEventListener("error", function () {
        ui.bar.classList.add("bg-danger");
        ui.li.classList.add("is-failed");
        ui.note.textContent = form.getAttribute("data-network-error") || "×";
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function upload(input) {
    var form = input.closest("[data-media-upload]");
    var list = form.querySelector("[data-media-progress]");
    list.textContent = "";
    var files = Array.prototype.slice.call(input.files);
    var chain = Promise.resolve();
    files.forEach(function (file) {
      var ui = row(list, file.name);
      chain = chain.then(function () { return send(form, file, ui); });
    });
    chain.then(function () {
      input.value = "";
      var target = form.getAttribute("data-refresh");
      var url = target === "#media-grid" ? window.location.pathname + window.location.search
        : document.getElementById("media-picker").getAttribute("data-picker-url");
      htmx.ajax("GET", url, { target: target, swap: "innerHTML" }).then(function () {
        list.querySelectorAll(".is-done").forEach(function (li) { li.remove(); });
      });
    });
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target.closest("[data-media-files]");
    if (input) { upload(input); }
  });
  // Files chosen while this script was still loading (a slow phone connection, a quick hand)
  // fired their change event before anyone listened: send them now rather than drop them.
  document.querySelectorAll("[data-media-files]").forEach(function (input) {
    if (input.files && input.files.length) { upload(input); }
  });
})();
