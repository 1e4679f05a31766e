// The alarm banner (console/_alarm_banner.html): fed by server-sent events from
// /events/alarms; the sound is off unless this browser turned it on (localStorage).
"use strict";
(() => {
  const banner = document.getElementById("alarm-banner");
  if (!banner || !window.EventSource) return;
  const count = document.getElementById("alarm-count");
  const countText = document.getElementById("alarm-count-text");
  const newest = document.getElementById("alarm-newest");
  const ack = document.getElementById("alarm-ack");
  const sound = document.getElementById("alarm-sound");
  const KEY = "oversight.alarmSound";
  let lastId = null;

  const soundOn = () => localStorage.getItem(KEY) === "on";
  const showSound = () => {
    sound.setAttribute("aria-pressed", soundOn() ? "true" : "false");
    sound.textContent = soundOn() ? banner.dataset.soundOn : banner.dataset.soundOff;
  };
  sound.addEventListener("click", () => {
    localStorage.setItem(KEY, soundOn() ? "off" : "on");
    showSound();
  });
  showSound();

  const beep = () => {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      tone.frequency.value = 880;
      tone.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio device: the banner still shows */ }
  };

  const show = (data) => {
    banner.dataset.count = String(data.count);
    banner.classList.toggle("alarm-active", data.count > 0);
    count.textContent = String(data.count);
    countText.textContent = data.text;
    const top = data.newest;
    newest.textContent = top ? top.text : "";
    ack.hidden = !(top && !top.acked && data.may_ack);
    if (top) ack.action = "/alarms/" + top.id + "/ack";
    if (top && lastId !== null && top.id > lastId && soundOn()) beep();
    lastId = top ? Math.max(top.id, lastId || 0) : (lastId || 0);
  };

  // One stream per session: a newer page of it takes the stream over ("replaced"); this
  // page takes it back when it is looked at again.
  let source = null;
  const open = () => {
    source = new EventSource(banner.dataset.stream);
    source.addEventListener("alarms", (event) => show(JSON.parse(event.data)));
    source.addEventListener("ended", () => source.close());
    source.addEventListener("replaced", () => {
      source.close();
      countText.textContent = banner.dataset.replaced;
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) countText.textContent = banner.dataset.unavailable;
    };
  };
  open();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && source.readyState === EventSource.CLOSED) open();
  });
  window.addEventListener("pagehide", () => source.close());
})();
