// The guided request form (templates/console/access_new.html), enhanced in place: the
// organisation class shows exactly its documents (from the page's own JSON, which the
// server built from the rule packs) and the "last N minutes" shortcuts fill the range.
// Without this file the class form reloads the page and the shortcuts are links.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  // An instant as a datetime-local value in the site's zone (offset in minutes).
  function siteLocal(ms, offset) {
    const d = new Date(ms + offset * 60000);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  function documentsFor(guide, cls) {
    return guide.find(function (g) { return g.class === cls; });
  }

  function showClass(guide, cls, select) {
    const entry = documentsFor(guide, cls);
    const box = document.getElementById("request-document-inputs");
    const hidden = document.getElementById("request-org-class");
    const fieldset = document.getElementById("request-documents");
    const name = document.getElementById("request-class-name");
    if (!entry || !box || !hidden) { return; }
    hidden.value = cls;
    fieldset.dataset.class = cls;
    if (name && select) { name.textContent = select.options[select.selectedIndex].text; }
    box.replaceChildren();
    entry.documents.forEach(function (d) {
      const label = document.createElement("label");
      label.className = "access-doc";
      label.dataset.kind = d.kind;
      label.append(d.name + " ");
      const cite = document.createElement("small");
      cite.textContent = "(" + d.cite + ")";
      label.append(cite, " ");
      const input = document.createElement("input");
      input.type = "file";
      input.name = "doc_" + d.kind;
      input.id = "doc-" + d.kind;
      label.append(input);
      box.append(label);
    });
    const url = new URL(window.location.href);
    url.searchParams.set("org_class", cls);
    window.history.replaceState(null, "", url);
  }

  function init() {
    const data = document.getElementById("class-documents");
    const select = document.getElementById("request-class");
    if (data && select) {
      const guide = JSON.parse(data.textContent);
      const button = document.getElementById("class-show");
      if (button) { button.hidden = true; }
      select.addEventListener("change", function () { showClass(guide, select.value, select); });
    }
    const presets = document.getElementById("request-presets");
    if (presets) {
      const offset = Number(presets.dataset.tzOffset || "0");
      presets.querySelectorAll("a.preset").forEach(function (link) {
        link.addEventListener("click", function (event) {
          event.preventDefault();
          const now = Date.now();
          const minutes = Number(link.dataset.minutes);
          document.getElementById("request-start").value = siteLocal(now - minutes * 60000, offset);
          document.getElementById("request-end").value = siteLocal(now, offset);
        });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
