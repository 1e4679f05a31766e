// The player: up to four cameras of one grant, in sync on the wall clock.
//
// Each tile plays its camera's playlist with hls.js (vendored); every segment it fetches
// goes through the enforcement point and is written to the ledger. The page data
// (#player-data, made by the server from the same entries as the playlists) gives each
// camera's pieces: where each released piece starts in media time and on the wall clock
// (ms since the epoch). Media time has no holes; the wall clock does (the gaps).
//
// One clock: while playing, the "leader" (a tile with footage at the current instant)
// drives it; every other tile is kept within a quarter of a second of it (a seek, or a
// slightly faster or slower rate for small drift). A tile with no footage at the instant
// is paused and dimmed; when no camera has footage the clock jumps to the next piece.
// Paused, "," and "." (and the buttons) step one frame of the leader (its measured frame
// rate, else the page's default, 25 fps). The snapshot asks the server for the frame at
// the instant shown: a still decoded from the released footage, itself a ledger leaf.
"use strict";
(function () {
  const dataEl = document.getElementById("player-data");
  const box = document.getElementById("player-box");
  if (!dataEl || !box) return;
  const data = JSON.parse(dataEl.textContent);
  const status = document.getElementById("player-status");
  const clockEl = document.getElementById("player-clock");
  const toggle = document.getElementById("player-toggle");
  const scrub = document.getElementById("scrub-input");
  const fpsEl = document.getElementById("player-fps");
  const win = data.window;
  const span = Math.max(win.end - win.start, 1);
  const say = (text, bad) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
  };

  // ---- the wall clock, in the console's time zone ----------------------------------
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: data.tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const pad = (n, w) => String(n).padStart(w, "0");
  const clockText = (ms) => {
    const p = {};
    for (const part of parts.formatToParts(new Date(ms))) p[part.type] = part.value;
    const frac = pad(Math.floor(((ms % 1000) + 1000) % 1000), 3);
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}.${frac}`;
  };

  // ---- the tiles and their clocks --------------------------------------------------
  const tiles = data.cameras.map((cam) => {
    const figure = box.querySelector(`figure[data-camera="${CSS.escape(cam.id)}"]`);
    return {
      id: cam.id,
      pieces: cam.pieces,
      fps: cam.fps || 0,
      figure,
      video: figure.querySelector("video"),
      note: figure.querySelector(".player-gap-note"),
      tileStatus: figure.querySelector(".tile-status"),
      hls: null,
      failed: !cam.pieces.length,
      frameDeltas: [],
    };
  });
  const mediaAt = (tile, wall) => {
    for (const p of tile.pieces) {
      if (wall >= p.start && wall < p.start + p.duration * 1000) {
        return p.media + (wall - p.start) / 1000;
      }
    }
    return null; // a gap of this camera
  };
  const wallAt = (tile, media) => {
    const ps = tile.pieces;
    for (let i = 0; i < ps.length; i += 1) {
      const p = ps[i];
      if (media < p.media + p.duration || i === ps.length - 1) {
        return p.start + Math.max(0, media - p.media) * 1000;
      }
    }
    return null;
  };
  const covers = (tile, wall) => !tile.failed && mediaAt(tile, wall) !== null;
  const coversBetween = (tile, lo, hi) =>
    !tile.failed && tile.pieces.some((p) => p.start < hi && p.start + p.duration * 1000 > lo);
  const nextFootage = (wall) => {
    let best = null;
    for (const t of tiles) {
      if (t.failed) continue;
      for (const p of t.pieces) {
        if (p.start > wall && p.start < win.end && (best === null || p.start < best)) best = p.start;
      }
    }
    return best;
  };

  const clock = { wall: data.at, playing: false, leader: null, last: performance.now() };
  window.oversightPlayer = { clock, tiles, mediaAt, wallAt }; // for the browser tests

  const fpsOf = (tile) => tile.fps || data.fps || 25;
  const measure = (tile) => {
    // The stream's frame rate, from the media times of frames actually presented.
    if (!tile.video.requestVideoFrameCallback) return;
    let prev = null;
    const onFrame = (_now, meta) => {
      if (prev && meta.presentedFrames === prev.presentedFrames + 1) {
        const d = meta.mediaTime - prev.mediaTime;
        if (d > 0.004 && d < 0.5) tile.frameDeltas.push(d);
      }
      prev = meta;
      if (tile.frameDeltas.length >= 24) {
        const sorted = [...tile.frameDeltas].sort((a, b) => a - b);
        const rate = 1 / sorted[Math.floor(sorted.length / 2)];
        if (rate >= 1 && rate <= 120) tile.fps = Math.round(rate * 100) / 100;
        if (fpsEl && tile === tiles[0]) fpsEl.textContent = `${tile.fps} fps`;
        return;
      }
      tile.video.requestVideoFrameCallback(onFrame);
    };
    tile.video.requestVideoFrameCallback(onFrame);
  };

  const play = (tile) => {
    if (!tile.video.paused) return;
    const started = tile.video.play();
    if (started && started.catch) started.catch(() => {});
  };
  const pause = (tile) => {
    if (!tile.video.paused) {
      tile.ours = true;
      tile.video.pause();
    }
  };
  const setMedia = (tile, media) => {
    if (Math.abs(tile.video.currentTime - media) > 0.0005) tile.video.currentTime = media;
  };

  // ---- one step of the loop: advance the clock, then keep every tile on it ----------
  const chooseLeader = () => {
    const ready = (t) => covers(t, clock.wall) && !t.video.seeking && t.video.readyState >= 3;
    if (clock.leader && ready(clock.leader)) return clock.leader;
    return tiles.find(ready) || null;
  };
  const advance = (elapsedMs) => {
    if (clock.wall >= win.end) return stop(win.end);
    const anyCover = tiles.some((t) => covers(t, clock.wall));
    if (!anyCover) {
      const next = nextFootage(clock.wall);
      return next === null ? stop(win.end) : seek(next);
    }
    const lead = chooseLeader();
    clock.leader = lead;
    if (!lead) return; // footage here, still loading: hold the clock
    if (lead.video.paused) {
      play(lead);
      return;
    }
    const w = wallAt(lead, lead.video.currentTime);
    if (w === null) return;
    const jumped = w - clock.wall > 1000 + elapsedMs * 2;
    if (jumped && tiles.some((t) => t !== lead && coversBetween(t, clock.wall + 1, w))) {
      // The leader skipped its own gap: another camera has footage in it; go on in real time.
      clock.wall += elapsedMs * lead.video.playbackRate;
      clock.leader = null;
    } else {
      clock.wall = w;
    }
  };
  const follow = (tile) => {
    const m = mediaAt(tile, clock.wall);
    const inGap = m === null || tile.failed;
    tile.figure.classList.toggle("in-gap", inGap && !tile.failed);
    if (tile.note) tile.note.hidden = !(inGap && !tile.failed);
    if (inGap) {
      pause(tile);
      return;
    }
    if (!clock.playing) {
      pause(tile);
      if (!tile.video.seeking) setMedia(tile, m);
      return;
    }
    if (tile === clock.leader) {
      tile.video.playbackRate = 1;
      play(tile);
      return;
    }
    const drift = tile.video.currentTime - m;
    if (!tile.video.seeking && (Math.abs(drift) > 0.25 || tile.video.paused)) {
      tile.video.currentTime = m;
      tile.video.playbackRate = 1;
    } else if (Math.abs(drift) > 0.04) {
      tile.video.playbackRate = drift > 0 ? 0.9 : 1.1; // small drift: catch up smoothly
    } else {
      tile.video.playbackRate = 1;
    }
    play(tile);
  };
  const render = () => {
    const ms = Math.round(clock.wall);
    clockEl.textContent = clockText(ms);
    clockEl.dataset.ms = String(ms);
    if (document.activeElement !== scrub) {
      scrub.value = String(((clock.wall - win.start) / span) * 1000);
    }
    toggle.textContent = clock.playing ? toggle.dataset.pause : toggle.dataset.play;
    toggle.setAttribute("aria-pressed", clock.playing ? "true" : "false");
  };
  const tick = () => {
    const now = performance.now();
    const elapsed = now - clock.last;
    clock.last = now;
    if (clock.playing) advance(elapsed);
    for (const t of tiles) follow(t);
    render();
  };

  // ---- what a person does -----------------------------------------------------------
  function stop(at) {
    clock.playing = false;
    clock.wall = at;
    clock.leader = null;
  }
  function seek(wall) {
    clock.wall = Math.min(Math.max(wall, win.start), win.end - 1);
    clock.leader = null;
    for (const t of tiles) {
      const m = mediaAt(t, clock.wall);
      if (m !== null && !t.failed) setMedia(t, m);
    }
  }
  const setPlaying = (on) => {
    clock.playing = on;
    clock.leader = null;
    if (!on) {
      const lead = chooseLeader();
      if (lead) clock.wall = wallAt(lead, lead.video.currentTime) ?? clock.wall;
    }
    tick();
  };
  const step = (frames) => {
    if (clock.playing) setPlaying(false);
    const lead = chooseLeader() || tiles.find((t) => !t.failed) || tiles[0];
    const from = covers(lead, clock.wall) ? wallAt(lead, lead.video.currentTime) : clock.wall;
    seek((from ?? clock.wall) + (frames * 1000) / fpsOf(lead));
    tick();
  };
  toggle.addEventListener("click", () => setPlaying(!clock.playing));
  document.getElementById("player-back").addEventListener("click", () => step(-1));
  document.getElementById("player-forward").addEventListener("click", () => step(1));
  scrub.addEventListener("input", () => {
    seek(win.start + (Number(scrub.value) / 1000) * span);
    tick();
  });
  document.addEventListener("keydown", (event) => {
    const tag = event.target && event.target.tagName;
    if (tag === "INPUT" && event.target !== scrub) return;
    if (tag === "TEXTAREA" || tag === "SELECT" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === ",") step(-1);
    else if (event.key === ".") step(1);
    else if (event.key === " " && tag !== "BUTTON") setPlaying(!clock.playing);
    else return;
    event.preventDefault();
  });

  // ---- gap marks on the scrub bar ------------------------------------------------------
  for (const mark of box.querySelectorAll(".gap-mark")) {
    const lo = Math.max(Number(mark.dataset.start), win.start);
    const hi = Math.min(Number(mark.dataset.end), win.end);
    mark.style.left = `${((lo - win.start) / span) * 100}%`;
    mark.style.width = `${((hi - lo) / span) * 100}%`;
    mark.title = `${clockText(lo)} – ${clockText(hi)}`;
  }

  // ---- the snapshot: a still of the frame at the instant shown, through the server ----
  const snapBox = document.getElementById("snapshot-box");
  const snapImg = document.getElementById("snapshot-img");
  const snapLink = document.getElementById("snapshot-link");
  for (const button of box.querySelectorAll(".snapshot-button")) {
    button.addEventListener("click", async () => {
      if (clock.playing) setPlaying(false);
      const at = new Date(Math.round(clock.wall)).toISOString();
      const url = `${data.snapshot}?camera=${encodeURIComponent(button.dataset.camera)}` +
        `&at=${encodeURIComponent(at)}`;
      button.disabled = true;
      try {
        const reply = await fetch(url, { credentials: "same-origin" });
        if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
        const blob = await reply.blob();
        const dataUrl = await new Promise((resolve, reject) => {
          const reader = new FileReader(); // a data: URL (the console's CSP allows no blob:)
          reader.onload = () => resolve(reader.result);
          reader.onerror = () => reject(reader.error);
          reader.readAsDataURL(blob);
        });
        snapImg.src = dataUrl;
        snapLink.href = dataUrl;
        snapLink.download = `grant${data.grant}-${button.dataset.camera}-${at.replace(/[:]/g, "")}.jpg`;
        snapBox.hidden = false;
        say("");
      } catch (err) {
        say(`${box.dataset.snapshotError} ${err.message}`, true);
      } finally {
        button.disabled = false;
      }
    });
  }

  // ---- loading each camera's stream -------------------------------------------------------
  const fail = (tile, text) => {
    tile.failed = true;
    if (tile.tileStatus) tile.tileStatus.textContent = text;
    tile.tileStatus.classList.add("error");
    if (tiles.every((t) => t.failed)) say(text, true);
  };
  const load = (tile) => {
    const video = tile.video;
    const source = video.dataset.src;
    video.addEventListener("playing", () => {
      say("");
      if (tile.tileStatus && !tile.failed) tile.tileStatus.textContent = "";
    });
    video.addEventListener("pause", () => {
      // A pause not ours (the page's own script, a test, the browser): pause them all.
      if (tile.ours) {
        tile.ours = false;
        return;
      }
      if (clock.playing && !video.ended && tile === clock.leader) setPlaying(false);
    });
    measure(tile);
    if (tile.failed) return;
    if (window.Hls && window.Hls.isSupported()) {
      const startPosition = mediaAt(tile, data.at) ?? 0;
      const hls = new window.Hls({ enableWorker: true, lowLatencyMode: false, startPosition });
      tile.hls = hls;
      hls.on(window.Hls.Events.ERROR, (_event, info) => {
        if (!info.fatal) return;
        const http = info.response && info.response.code ? info.response.code : 0;
        const why = http ? box.dataset[`error-${http}`] : undefined; // data-error-404, -500
        fail(tile, `${box.dataset.error} ${why || info.details}${http ? ` (HTTP ${http})` : ""}`);
        hls.destroy();
      });
      hls.loadSource(source);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = source;
    } else {
      fail(tile, box.dataset.unsupported);
    }
  };
  tiles.forEach(load);
  window.oversightHls = tiles[0] && tiles[0].hls; // for the browser tests
  seek(data.at);
  setInterval(tick, 100);
  // Start playing once the first tile can: playback starts on opening, as before.
  const first = tiles.find((t) => !t.failed);
  if (first) {
    first.video.addEventListener("loadeddata", () => {
      if (!clock.started) {
        clock.started = true;
        seek(clock.wall);
        setPlaying(true);
      }
    }, { once: true });
  }
  tick();
})();
