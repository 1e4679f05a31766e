"""Console exports running in the background, so the page can show their progress
(issue 22, item 6).

``POST /grants/{id}/export/start`` starts a job: a thread that runs the same export as
the plain form (``api.evidence_zip.make_zip``: the enforcement point, the ``export``
leaf first, the package, its zip, the ``export.done`` leaf) and reports each phase
(clips cut of the total, the self-check, the zip, the record). The page polls the job's
status and downloads the zip when it is done. A job belongs to the session that
started it (the digest of its token): another session, even of the same person, gets
404. At most ``export_jobs_max`` run at once; a finished zip waits
``export_job_keep_s`` for its download, then it is deleted (the export stays in the
history and the ledger). In memory, like executions (``web/witness.py``): a restart
loses the jobs, never the record.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from oversight.errors import NotFound, OversightError
from oversight.services.auth import token_digest

log = logging.getLogger(__name__)
_CREATE = threading.Lock()

# (progress callback) -> (temporary directory, zip)
Work = Callable[[Callable[[str, int, int], None]], tuple[Path, Path]]


@dataclass
class Job:
    id: str
    owner: str  # the session token's digest
    grant_id: int
    state: str = "running"  # running | done | failed
    phase: str = "release"  # release | cut | check | zip | record
    done: int = 0
    total: int = 0
    error: str | None = None
    tmp: Path | None = None
    archive: Path | None = None
    finished: float | None = None  # monotonic seconds
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {
                "job": self.id,
                "grant": self.grant_id,
                "state": self.state,
                "phase": self.phase,
                "done": self.done,
                "total": self.total,
                "error": self.error,
                "name": self.archive.name if self.archive is not None else None,
            }


class Busy(Exception):
    """As many exports run as the setting allows."""


class Jobs:
    def __init__(self, most: int, keep_s: float) -> None:
        self.most, self.keep_s = most, keep_s
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def _purge(self) -> None:
        now = time.monotonic()
        for job in list(self._jobs.values()):
            if job.finished is not None and now - job.finished > self.keep_s:
                self._drop(job)

    def _drop(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        if job.tmp is not None:
            shutil.rmtree(job.tmp, ignore_errors=True)

    def start(self, token: str, grant_id: int, work: Work) -> Job:
        with self._lock:
            self._purge()
            if sum(j.state == "running" for j in self._jobs.values()) >= self.most:
                raise Busy(f"{self.most} exports are running already: try again shortly")
            job = Job(secrets.token_urlsafe(16), token_digest(token), grant_id)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), daemon=True).start()
        return job

    def _run(self, job: Job, work: Work) -> None:
        def progress(phase: str, done: int, total: int) -> None:
            with job.lock:
                job.phase, job.done, job.total = phase, done, total

        try:
            tmp, archive = work(progress)
        except OversightError as exc:
            self._finish(job, error=exc.message)
        except Exception:  # a thread's boundary: said to the page, logged in full
            log.exception("console export of grant %s failed", job.grant_id)
            self._finish(job, error="the export failed (see the server log)")
        else:
            self._finish(job, tmp=tmp, archive=archive)

    def _finish(
        self, job: Job, *, error: str | None = None, tmp: Path | None = None,
        archive: Path | None = None,
    ) -> None:  # fmt: skip
        with job.lock:
            job.state = "failed" if error is not None else "done"
            job.error, job.tmp, job.archive = error, tmp, archive
            job.finished = time.monotonic()
        with self._lock:
            if job.id not in self._jobs and tmp is not None:  # dropped meanwhile
                shutil.rmtree(tmp, ignore_errors=True)

    def get(self, token: str, job_id: str) -> Job:
        with self._lock:
            self._purge()
            job = self._jobs.get(job_id)
        if job is None or not secrets.compare_digest(job.owner, token_digest(token)):
            raise NotFound("no such export in this session (finished ones are kept a while)")
        return job

    def take(self, token: str, job_id: str) -> tuple[Path, Path]:
        """The finished job's (temporary directory, zip), once: the job is forgotten and
        the caller removes the directory after sending the zip."""
        job = self.get(token, job_id)
        with job.lock:
            if job.state != "done" or job.tmp is None or job.archive is None:
                raise NotFound("this export has no zip to download (still running or failed)")
            tmp, archive = job.tmp, job.archive
            job.tmp = None
        with self._lock:
            self._jobs.pop(job.id, None)
        return tmp, archive


def jobs(request: Request) -> Jobs:
    """The app's one registry, made on first use."""
    state = request.app.state
    with _CREATE:
        if getattr(state, "export_jobs", None) is None:
            settings = request.app.state.system.settings
            state.export_jobs = Jobs(settings.export_jobs_max, settings.export_job_keep_s)
    registry: Jobs = state.export_jobs
    return registry
