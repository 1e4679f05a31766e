// The live wall: each tile opens its own live session through the enforcement point
// (POST /api/v1/cameras/ID/live: the policy, training and a view.live leaf), plays its
// playlist with hls.js (vendored), sends a heartbeat every few seconds and ends the
// session when the page goes (a view.live.end leaf). A refusal (403) is said in the
// tile, and nothing of that camera is fetched.
"use strict";
(function () {
  const wall = document.getElementById("wall");
  if (!wall) return;
  const csrf = wall.dataset.csrf;
  const every = Number(wall.dataset.heartbeatS || "10") * 1000;
  const headers = { "X-CSRF-Token": csrf, "Content-Type": "application/json" };
  const tiles = [];
  window.oversightLive = tiles; // for the browser tests
  const say = (tile, text, bad) => {
    const status = tile.querySelector(".tile-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
  };
  const post = (url, keepalive) =>
    fetch(url, { method: "POST", headers, body: "{}", credentials: "same-origin", keepalive });

  async function open(tile) {
    const camera = tile.dataset.camera;
    const video = tile.querySelector("video");
    if (!camera || !video) return;
    const entry = { camera, video, tile, session: null, hls: null };
    tiles.push(entry);
    let reply;
    try {
      reply = await post(`/api/v1/cameras/${encodeURIComponent(camera)}/live`, false);
    } catch (err) {
      say(tile, `${wall.dataset.error} ${err}`, true);
      return;
    }
    if (!reply.ok) {
      let why = `HTTP ${reply.status}`;
      try { why = (await reply.json()).error || why; } catch (_e) { /* not JSON */ }
      const lead = reply.status === 403 ? wall.dataset.refused : wall.dataset.error;
      say(tile, `${lead} ${why}`, true);
      entry.refused = reply.status;
      return;
    }
    entry.session = await reply.json();
    if (!(window.Hls && window.Hls.isSupported())) {
      say(tile, wall.dataset.unsupported, true);
      return;
    }
    // Play near the live edge: a part and a quarter behind it, not the default three
    // (parts are cut at keyframes: a part is the camera's keyframe interval, the least
    // latency without stalls); when further behind, catch up by playing faster
    // (hls.js does that in its low-latency mode only).
    const hls = new window.Hls({
      enableWorker: true,
      lowLatencyMode: true,
      liveSyncDurationCount: 1.25,
      liveMaxLatencyDurationCount: 4,
      maxLiveSyncPlaybackRate: 1.5,
      liveSyncOnStallIncrease: 0.25,
      manifestLoadingMaxRetry: 6,
      levelLoadingMaxRetry: 6,
    });
    entry.hls = hls;
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
      const played = video.play();
      if (played && played.catch) played.catch(() => {});
    });
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      const http = data.response && data.response.code ? data.response.code : 0;
      say(tile, http === 404 ? wall.dataset.offline : `${wall.dataset.error} ${data.details}`, true);
    });
    video.addEventListener("playing", () => say(tile, ""));
    hls.loadSource(entry.session.playlist);
    hls.attachMedia(video);
  }

  const beat = () => {
    for (const entry of tiles) {
      if (entry.session) post(entry.session.heartbeat, false).catch(() => {});
    }
  };
  const leave = () => {
    for (const entry of tiles) {
      if (entry.session) post(entry.session.end, true).catch(() => {});
      entry.session = null;
      if (entry.hls) entry.hls.destroy();
    }
  };
  window.addEventListener("pagehide", leave);
  setInterval(beat, every);

  // Keyboard: F shows the focused tile full screen (Esc leaves it, as the browser does).
  wall.addEventListener("keydown", (event) => {
    const tile = event.target.closest && event.target.closest(".tile");
    if (!tile || (event.key !== "f" && event.key !== "F")) return;
    event.preventDefault();
    if (document.fullscreenElement) document.exitFullscreen();
    else if (tile.requestFullscreen) tile.requestFullscreen();
  });
  // Choosing the tile count re-submits the form at once (keyboard: arrows then Enter).
  const count = document.getElementById("wall-tiles");
  if (count) count.addEventListener("change", () => count.form.requestSubmit());

  wall.querySelectorAll(".tile").forEach((tile) => { open(tile); });
})();
