// Playback of granted footage: hls.js (vendored) plays the grant's playlist. Each
// segment it fetches goes through the enforcement point and is written to the ledger;
// the server sends only the part inside the grant, checked against its sealed hash.
// A 404 there means no whole group of pictures lies inside the grant, a 500 that the
// stored file failed that check (nothing of it was sent): each is said in words.
"use strict";
(function () {
  const video = document.getElementById("player");
  const status = document.getElementById("player-status");
  if (!video) return;
  const say = (text, bad) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
  };
  const source = video.dataset.src;
  const start = () => {
    const played = video.play();
    if (played && played.catch) played.catch(() => {});
  };
  video.addEventListener("playing", () => say(""));
  if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls({ enableWorker: true, lowLatencyMode: false });
    window.oversightHls = hls; // for the browser tests
    hls.on(window.Hls.Events.MANIFEST_PARSED, start);
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      const http = data.response && data.response.code ? data.response.code : 0;
      const why = http ? video.dataset[`error-${http}`] : undefined; // data-error-404, -500
      const code = http ? ` (HTTP ${http})` : "";
      say(`${video.dataset.error} ${why || data.details}${code}`, true);
      hls.destroy();
    });
    hls.loadSource(source);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = source;
    video.addEventListener("loadedmetadata", start);
  } else {
    say(video.dataset.unsupported, true);
  }
})();
