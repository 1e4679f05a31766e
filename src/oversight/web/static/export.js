// An evidence export with its progress (issue 22, item 6). Without scripts the form
// posts to /grants/{id}/export and the zip downloads when it is ready; with them, the
// export runs as a job on the server and this shows each phase it reports (clips cut
// of the total, the self-check, the zip, the ledger record), then downloads the zip.
"use strict";
(function () {
  const form = document.getElementById("export-form");
  if (!form || !window.fetch) return;
  const bar = document.getElementById("export-progress");
  const status = document.getElementById("export-status");
  const button = document.getElementById("export-button");
  const say = (text, bad) => {
    status.textContent = text;
    status.classList.toggle("error", Boolean(bad));
  };
  const phase = (job) => {
    const text = form.dataset[`phase${job.phase[0].toUpperCase()}${job.phase.slice(1)}`] || "";
    return text.replace("{done}", String(job.done + 1)).replace("{total}", String(job.total));
  };
  const show = (job) => {
    bar.hidden = false;
    if (job.phase === "cut" && job.total > 0) {
      bar.max = job.total;
      bar.value = job.done;
    } else if (job.state === "done") {
      bar.max = 1;
      bar.value = 1;
    } else {
      bar.removeAttribute("value"); // indeterminate: a phase with no count
    }
    say(phase(job));
  };
  const poll = async (urls) => {
    const reply = await fetch(urls.status_url, { credentials: "same-origin" });
    if (!reply.ok) throw new Error(`HTTP ${reply.status}`);
    const job = await reply.json();
    if (job.state === "running") {
      show(job);
      window.setTimeout(() => poll(urls).catch(fail), 500);
      return;
    }
    button.disabled = false;
    if (job.state === "failed") {
      bar.hidden = true;
      say(`${form.dataset.phaseFailed} ${job.error}`, true);
      return;
    }
    show(job);
    say(`${form.dataset.phaseDone} ${job.name}`);
    window.location.assign(urls.download_url);
  };
  const fail = (error) => {
    button.disabled = false;
    bar.hidden = true;
    say(`${form.dataset.phaseFailed} ${error.message || error}`, true);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(form.dataset.phaseRelease);
    bar.hidden = false;
    bar.removeAttribute("value");
    try {
      const reply = await fetch(form.dataset.start, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
      });
      const body = await reply.json().catch(() => ({}));
      if (reply.status === 503) {
        button.disabled = false;
        bar.hidden = true;
        say(form.dataset.phaseBusy, true);
        return;
      }
      if (!reply.ok) throw new Error(body.error || `HTTP ${reply.status}`);
      await poll(body);
    } catch (error) {
      fail(error);
    }
  });
})();
