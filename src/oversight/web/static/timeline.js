// The timeline (issue 22, item 2): wheel to zoom, keys to pan and zoom, drag a range to
// request it (or play it with a grant), hover for the time, the bands there and, for a
// grant this session executes, a thumbnail (footage: the server logs every one).
// Without this file the page still works: its controls and bands are plain links.
"use strict";
(() => {
  const rowsBox = document.querySelector(".tl-rows");
  if (!rowsBox) return;
  const minSpan = Number(rowsBox.dataset.minSpan) * 1000;
  const maxSpan = Number(rowsBox.dataset.maxSpan) * 1000;
  const panel = document.getElementById("pick");
  const hover = document.getElementById("tl-hover");
  const hoverText = hover && hover.querySelector(".tl-hover-text");
  const thumb = hover && hover.querySelector(".tl-thumb");
  const lengths = panel ? JSON.parse(panel.dataset.lengths || "{}") : {};

  const iso = (ms) => new Date(Math.round(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const localText = (ms, tz) =>
    new Intl.DateTimeFormat("sv-SE", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
    }).format(new Date(ms));

  // Seconds in words, as web/timeline.py human_length does.
  function length(seconds) {
    if (seconds < 10) {
      const n = Math.max(seconds, 0).toFixed(seconds < 1 ? 2 : 1).replace(/\.?0+$/, "");
      return fill(lengths.s, { n: n || "0" });
    }
    const whole = Math.round(seconds);
    if (whole < 60) return fill(lengths.s, { n: whole });
    if (whole < 3600) {
      const m = Math.floor(whole / 60), s = whole % 60;
      return s ? fill(lengths.m_s, { m, s }) : fill(lengths.m, { m });
    }
    const minutes = Math.round(seconds / 60);
    if (minutes < 1440) {
      const h = Math.floor(minutes / 60), m = minutes % 60;
      return m ? fill(lengths.h_m, { h, m }) : fill(lengths.h, { h });
    }
    const hours = Math.round(seconds / 3600), d = Math.floor(hours / 24), h = hours % 24;
    return h ? fill(lengths.d_h, { d, h }) : fill(lengths.d, { d });
  }

  function geometry(svg) {
    const start = Date.parse(svg.dataset.start), end = Date.parse(svg.dataset.end);
    const box = svg.getBoundingClientRect();
    const at = (clientX) => start + Math.min(Math.max((clientX - box.left) / box.width, 0), 1) * (end - start);
    const units = (ms) => ((ms - start) / (end - start)) * Number(svg.dataset.width);
    return { start, end, at, units };
  }

  function spanText(ms) {
    const s = Math.round(ms / 1000);
    if (s % 86400 === 0) return `${s / 86400}d`;
    if (s % 3600 === 0) return `${s / 3600}h`;
    if (s % 60 === 0) return `${s / 60}m`;
    return `${s}s`;
  }

  // ---- zoom by wheel, about the instant under the pointer; keys and buttons ----------
  function go(span, end) {
    const params = new URLSearchParams(location.search);
    for (const k of ["sel_camera", "sel_start", "sel_end"]) params.delete(k);
    params.set("span", spanText(span));
    if (end >= Date.now() - 1000) params.delete("end");
    else params.set("end", iso(end));
    location.assign(`${location.pathname}?${params}`);
  }
  let wheelTimer = null, wheelSteps = 0;
  function onWheel(event, svg) {
    event.preventDefault();
    wheelSteps += event.deltaY > 0 ? 1 : -1;
    clearTimeout(wheelTimer);
    const g = geometry(svg), t = g.at(event.clientX);
    wheelTimer = setTimeout(() => {
      const factor = Math.pow(2, wheelSteps);
      wheelSteps = 0;
      const span = Math.min(Math.max((g.end - g.start) * factor, minSpan), maxSpan);
      const start = t - (t - g.start) * (span / (g.end - g.start));
      go(span, Math.min(start + span, Date.now()));
    }, 200);
  }
  const follow = (rel) => {
    const link = document.querySelector(`.tl-controls a[data-rel="${rel}"]`);
    if (link) location.assign(link.href);
  };
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const rel = { ArrowLeft: "earlier", ArrowRight: "later", "+": "zoom-in", "=": "zoom-in", "-": "zoom-out" }[event.key];
    if (rel) {
      event.preventDefault();
      follow(rel);
    }
  });

  // ---- drag a range: the request link, and play with a covering grant -----------------
  function showPick(svg, lo, hi) {
    if (!panel) return;
    const camera = svg.dataset.camera;
    const query = new URLSearchParams({ camera, start: iso(lo), end: iso(hi) });
    panel.querySelector(".tl-picked").textContent = fill(panel.dataset.pickedLabel, {
      camera, start: localText(lo, svg.dataset.tz), end: localText(hi, svg.dataset.tz),
      length: length((hi - lo) / 1000),
    });
    panel.querySelector("#pick-request").href = `/access/new?${query}`;
    const play = panel.querySelector("#pick-play");
    const grant = JSON.parse(svg.dataset.grants || "[]").find(
      (g) => Date.parse(g.start) <= lo && hi <= Date.parse(g.end));
    play.hidden = !grant;
    if (grant) {
      play.href = `/play/${grant.id}?${query}`;
      play.textContent = fill(panel.dataset.playLabel, { grant: grant.id });
    }
    panel.hidden = false;
  }

  function bind(svg) {
    const pick = svg.querySelector("rect.pick");
    let from = null, dragged = false;
    svg.addEventListener("wheel", (e) => onWheel(e, svg), { passive: false });
    svg.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault(); // no native drag of the band links
      from = event.clientX;
      dragged = false;
    });
    svg.addEventListener("pointermove", (event) => {
      const g = geometry(svg);
      if (from === null) return showHover(svg, g, event);
      if (Math.abs(event.clientX - from) < 4) return;
      // Captured only once it is a drag: a plain click still reaches the band's link.
      if (!dragged) svg.setPointerCapture(event.pointerId);
      dragged = true;
      const a = g.units(g.at(Math.min(from, event.clientX))), b = g.units(g.at(Math.max(from, event.clientX)));
      pick.setAttribute("x", String(a));
      pick.setAttribute("width", String(Math.max(b - a, 0)));
    });
    svg.addEventListener("pointerup", (event) => {
      if (from === null) return;
      const g = geometry(svg);
      const lo = g.at(Math.min(from, event.clientX)), hi = g.at(Math.max(from, event.clientX));
      from = null;
      if (dragged && hi - lo >= 1000) showPick(svg, lo, hi);
    });
    // A drag that ends on a band is not a click on its link.
    svg.addEventListener("click", (event) => {
      if (dragged) {
        event.preventDefault();
        event.stopPropagation();
        dragged = false;
      }
    }, true);
    svg.addEventListener("pointerleave", () => { if (hover) hover.hidden = true; });
  }

  // ---- hover: the time, the bands there, a thumbnail for an executed grant --------------
  let thumbTimer = null;
  function showHover(svg, g, event) {
    if (!hover) return;
    const t = g.at(event.clientX);
    // Within two pixels of a band counts as on it: a gap narrower than a pixel is hoverable.
    const near = Math.max(1000, ((g.end - g.start) / svg.getBoundingClientRect().width) * 2);
    const here = [...svg.querySelectorAll("rect[data-kind]")].filter(
      (r) => Date.parse(r.dataset.start) - near <= t && t < Date.parse(r.dataset.end) + near);
    const lines = [localText(t, svg.dataset.tz), ...here.map((r) => r.querySelector("title").textContent)];
    hoverText.textContent = lines.join("\n");
    hover.hidden = false;
    // Kept inside the page: a tooltip past the right edge would widen it (375 px phones).
    const right = document.documentElement.clientWidth + window.scrollX - hover.offsetWidth - 4;
    hover.style.left = `${Math.max(Math.min(event.pageX + 12, right), window.scrollX)}px`;
    hover.style.top = `${event.pageY + 12}px`;
    const recorded = here.some((r) => r.dataset.kind === "recorded");
    const thumbs = JSON.parse(svg.dataset.thumbs || "[]");
    const grant = JSON.parse(svg.dataset.grants || "[]").find(
      (x) => thumbs.includes(x.id) && Date.parse(x.start) <= t && t < Date.parse(x.end));
    clearTimeout(thumbTimer);
    if (!recorded || !grant) {
      thumb.hidden = true;
      return;
    }
    // One thumbnail per step of the window (each one is a logged use of footage).
    const step = Math.max(1000, (g.end - g.start) / 240);
    const at = iso(Math.floor(t / step) * step);
    const url = `/timeline/thumbnail/${grant.id}?${new URLSearchParams({ camera: svg.dataset.camera, at })}`;
    thumbTimer = setTimeout(() => {
      if (thumb.dataset.url === url) return;
      thumb.dataset.url = url;
      thumb.src = url;
      thumb.hidden = false;
    }, 300);
  }

  document.querySelectorAll(".tl-row svg.timeline").forEach(bind);
})();
