"""The log side of witnessing (issue 20): submit checkpoints to witnesses, keep their
cosignatures, raise the alarm when one refuses.

Protocol (c2sp.org/tlog-witness), per configured witness ``URL=VKEY``:

1. ``POST URL/add-checkpoint`` with the body ``old N\\n``, the consistency proof from N
   to our newest checkpoint (base64, one hash a line, at most 63), a blank line and the
   signed checkpoint note. N is the size that witness last cosigned (``witness_states``),
   0 when it never answered us.
2. ``200``: the body is note signature lines; those from the witness's key that verify on
   the checkpoint (c2sp.org/tlog-cosignature) are stored in ``witness_cosignatures``, the
   witness's state moves to the new size. Lines from other keys are ignored.
3. ``409`` with ``Content-Type: text/x.tlog.size``: the body is the size it cosigned
   last. Larger than our log: the log was cut (or forked): CRITICAL ``witness-fork``
   alarm. Equal to the old size we sent: it holds a different root at that size: fork.
   Otherwise we resubmit at once with the proof from that size (at most twice).
4. ``422``: our consistency proof fails against what it cosigned: fork, CRITICAL alarm.
5. ``403`` (it does not trust our key), ``404`` (it does not know our origin), ``400``,
   any other status, a timeout or a refused connection: a failure; retried with
   exponential backoff and full jitter; one failing longer than
   ``OVERSIGHT_WITNESS_UNREACHABLE_ALARM_S`` raises a ``witness-unreachable`` alarm (and
   a compliance finding), closed by its next cosignature.

Alarms here are deployment-wide, not per camera (``services/alarms.py`` alarms need a
camera): the open alarm is kept on the witness's ``witness_states`` row, and raising or
clearing it is a ``health`` leaf (subject ``witness:NAME``), a log line (CRITICAL for a
fork) and the alarm webhook. Nothing here runs inside a recording or sealing
transaction: the HTTP exchange happens with no transaction open, and the :class:`Submitter`
thread does it all in the background (``oversight record`` and ``oversight serve`` run
one; ``oversight ledger publish`` submits once).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight import redaction
from oversight.bootstrap import System
from oversight.config import Settings
from oversight.db import models as m
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.errors import ConfigError, InvalidInput, ProofError
from oversight.ledger import cosignature, leaves, note
from oversight.ledger.log import StoredCheckpoint
from oversight.services import alarms, authz

log = logging.getLogger("oversight.witnessing")

MAX_PROOF_LINES = 63  # c2sp.org/tlog-witness: a client MUST NOT send more
MAX_RESPONSE_BYTES = 64 * 1024  # a cosignature answer is a few lines
SIZE_TYPE = "text/x.tlog.size"
FORK = "witness-fork"
UNREACHABLE = "witness-unreachable"

Result = Literal["cosigned", "current", "refused", "failed", "nothing"]


@dataclass(frozen=True)
class Witness:
    url: str  # the submission prefix, no trailing slash
    vkey: str
    verifier: note.Verifier = field(compare=False)

    @property
    def label(self) -> str:
        """The key name and id: how reports and stored rows name this witness."""
        return f"{self.verifier.name}+{self.verifier.key_id:08x}"


def configured(settings: Settings) -> list[Witness]:
    """The witnesses of ``OVERSIGHT_WITNESSES``; a key that is not a cosignature key is a
    configuration error."""
    out = []
    for url, vkey in settings.witness_list:
        try:
            verifier = note.parse_verifier(vkey)
        except (InvalidInput, ProofError) as exc:
            raise ConfigError(f"OVERSIGHT_WITNESSES: the key for {url}: {exc}") from None
        if not isinstance(verifier, cosignature.CosignatureVerifier):
            raise ConfigError(
                f"OVERSIGHT_WITNESSES: the key for {url} is not a cosignature/v1 key (type 0x04)"
            )
        out.append(Witness(url, vkey, verifier))
    return out


def quorum(settings: Settings, witnesses: Sequence[Witness]) -> int:
    """How many cosignatures make a checkpoint witnessed (default: every witness)."""
    wanted = settings.witness_quorum
    return len(witnesses) if wanted is None else min(wanted, len(witnesses))


# ---- HTTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer (refused, timed out)
    content_type: str
    body: bytes
    error: str = ""


def _exchange(request: urllib.request.Request, timeout: float) -> Answer:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only (config)
            return Answer(
                int(response.status),
                response.headers.get_content_type(),
                response.read(MAX_RESPONSE_BYTES),
            )
    except urllib.error.HTTPError as exc:
        body = exc.read(MAX_RESPONSE_BYTES)
        return Answer(exc.code, exc.headers.get_content_type(), body)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        text = "timed out" if isinstance(reason, TimeoutError) else str(reason)[:200]
        return Answer(0, "", b"", text or type(exc).__name__)


def request_body(old: int, proof: Sequence[bytes], checkpoint_note: str) -> bytes:
    """The add-checkpoint body: ``old N``, proof lines, a blank line, the checkpoint."""
    if len(proof) > MAX_PROOF_LINES:
        raise InvalidInput(f"a consistency proof of {len(proof)} hashes is over {MAX_PROOF_LINES}")
    lines = [f"old {old}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return "".join(lines).encode() + checkpoint_note.encode()


def add_checkpoint(
    witness: Witness, old: int, proof: Sequence[bytes], checkpoint_note: str, timeout: float
) -> Answer:
    request = urllib.request.Request(  # noqa: S310 - the setting only admits http(s)
        witness.url + "/add-checkpoint",
        data=request_body(old, proof, checkpoint_note),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "oversight-log/1"},
    )
    return _exchange(request, timeout)


def latest_url(witness: Witness, origin: str) -> str:
    return witness.url + "/latest/" + urllib.parse.quote(origin, safe="")


def fetch_latest(witness: Witness, origin: str, timeout: float) -> Answer:
    """``GET URL/latest/ORIGIN`` (origin percent-encoded): the witness's newest cosigned
    checkpoint of our log, as a signed note (200), or 404 when it has none."""
    request = urllib.request.Request(  # noqa: S310 - the setting only admits http(s)
        latest_url(witness, origin), method="GET", headers={"User-Agent": "oversight-log/1"}
    )
    return _exchange(request, timeout)


# ---- one submission ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    witness: str
    result: Result
    size: int | None = None  # the size it cosigned (or, refused, says it cosigned)
    detail: str = ""


def _state(session: Session, witness: Witness) -> m.WitnessState:
    row = session.get(m.WitnessState, witness.vkey)
    if row is None:
        row = m.WitnessState(witness=witness.vkey, url=witness.url)
        session.add(row)
    row.url = witness.url
    return row


def _known_size(system: System, witness: Witness) -> int | None:
    with system.reads() as session:
        row = session.get(m.WitnessState, witness.vkey)
        return None if row is None else row.size


def _parse_size(answer: Answer) -> int | None:
    text = answer.body.decode("ascii", "replace")
    if answer.content_type != SIZE_TYPE or not text.endswith("\n"):
        return None
    digits = text[:-1]
    if not digits.isdigit() or (len(digits) > 1 and digits[0] == "0") or len(digits) > 20:
        return None
    return int(digits)


def _cosignatures(witness: Witness, checkpoint_note: str, body: bytes) -> list[note.Signature]:
    """The verified cosignatures of ``witness`` in a 200 body (others are ignored)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise ProofError("the answer is not UTF-8") from None
    lines = [line for line in text.splitlines(keepends=True) if line.strip()]
    if not lines or any(not line.startswith(note.SIG_PREFIX) for line in lines):
        raise ProofError("the answer is not note signature lines")
    opened = note.open_note(checkpoint_note + "".join(lines), [witness.verifier])
    return list(opened.sigs)


def submit(system: System, witness: Witness) -> Outcome:
    """Submit our newest checkpoint to ``witness`` (steps in the module docstring)."""
    timeout = system.settings.witness_timeout_s
    with system.reads() as session:
        latest = system.ledger.latest_checkpoint(session)
    if latest is None:
        return Outcome(witness.label, "nothing")
    old = _known_size(system, witness)
    if old == latest.size and _has_cosignature(system, witness, latest.size):
        return Outcome(witness.label, "current", old)
    old = old or 0
    for _ in range(3):  # the first try, then at most two resubmissions after a 409
        if old > latest.size:
            return _refused(
                system,
                witness,
                old,
                latest,
                f"it cosigned {old} leaves, the log holds {latest.size}",
            )
        with system.reads() as session:
            proof = system.ledger.consistency_proof(session, old, latest.size) if old else []
        answer = add_checkpoint(witness, old, proof, latest.note, timeout)
        if answer.status == 200:
            try:
                sigs = _cosignatures(witness, latest.note, answer.body)
            except ProofError as exc:
                return _failed(system, witness, f"a 200 without a valid cosignature: {exc}")
            return _cosigned(system, witness, latest, sigs)
        if answer.status == 409:
            size = _parse_size(answer)
            if size is None:
                return _failed(system, witness, "a 409 without a text/x.tlog.size body")
            if size == old:  # same size, another root: it cosigned a different history
                return _refused(
                    system, witness, size, latest, f"it holds another tree of {size} leaves"
                )
            old = size
            continue
        if answer.status == 422:
            return _refused(
                system,
                witness,
                old,
                latest,
                f"the consistency proof from {old} to {latest.size} leaves fails against "
                "what it cosigned",
            )
        what = f"HTTP {answer.status}" if answer.status else answer.error
        hint = {403: ": it does not trust our log key", 404: ": it does not know our origin"}
        return _failed(system, witness, what + hint.get(answer.status, ""))
    return _failed(system, witness, "its size kept changing (three 409 answers)")


def _has_cosignature(system: System, witness: Witness, size: int) -> bool:
    with system.reads() as session:
        return session.get(m.WitnessCosignature, (size, witness.label)) is not None


def _cosigned(
    system: System, witness: Witness, latest: StoredCheckpoint, sigs: Sequence[note.Signature]
) -> Outcome:
    now = system.clock.now()
    lines = "".join(sig.line() for sig in sigs)
    when = max(cosignature.cosigned_at(sig.signature) for sig in sigs)
    cleared = None
    with system.sessions.begin() as session:
        row = session.get(m.WitnessCosignature, (latest.size, witness.label))
        if row is None:
            row = m.WitnessCosignature(size=latest.size, witness=witness.label)
            session.add(row)
        row.line, row.cosigned_at = lines, datetime.fromtimestamp(when, UTC)
        state = _state(session, witness)
        state.size, state.note = latest.size, latest.note + lines
        state.last_ok_at, state.failing_since, state.last_error = now, None, None
        if state.alarm == UNREACHABLE:
            cleared = _close_alarm(system, session, witness, state, now)
    if cleared:
        log.warning("witness %s answers again: alarm %s cleared", witness.label, UNREACHABLE)
        _notify(system, "alarm.clear", cleared)
    return Outcome(witness.label, "cosigned", latest.size)


def _failed(system: System, witness: Witness, why: str) -> Outcome:
    now = system.clock.now()
    raised = None
    with system.sessions.begin() as session:
        state = _state(session, witness)
        state.failing_since = state.failing_since or now
        state.last_error = why[:500]
        limit = timedelta(seconds=system.settings.witness_unreachable_alarm_s)
        if state.alarm is None and now - state.failing_since >= limit:
            detail = (
                f"witness {witness.label} ({witness.url}) has not cosigned since "
                f"{(state.last_ok_at or state.failing_since).isoformat()}: {why}"
            )
            raised = _open_alarm(system, session, witness, state, UNREACHABLE, detail, now)
    log.info("witness %s: %s", witness.label, why)
    if raised:
        log.error("alarm %s: %s", UNREACHABLE, raised["detail"])
        _notify(system, "alarm.raise", raised)
    return Outcome(witness.label, "failed", None, why)


def _refused(
    system: System, witness: Witness, size: int, latest: StoredCheckpoint, why: str
) -> Outcome:
    """A witness refused our checkpoint as inconsistent: a fork or a cut, at once."""
    now = system.clock.now()
    detail = (
        f"witness {witness.label} ({witness.url}) refuses the checkpoint of {latest.size} "
        f"leaves: {why}. The ledger was cut or rewritten after that witness cosigned it."
    )
    raised = None
    with system.sessions.begin() as session:
        state = _state(session, witness)
        state.failing_since = state.failing_since or now
        state.last_error = detail[:500]
        if state.alarm != FORK:
            if state.alarm is not None:
                _close_alarm(system, session, witness, state, now)
            raised = _open_alarm(system, session, witness, state, FORK, detail, now)
    log.critical("alarm %s: %s", FORK, detail)
    if raised:
        _notify(system, "alarm.raise", raised)
    return Outcome(witness.label, "refused", size, detail)


# ---- deployment-level alarms ---------------------------------------------------------------


def _alarm_leaf(
    system: System, action: str, witness: Witness, details: dict[str, str]
) -> dict[str, Any]:
    return leaves.health(
        at=system.clock.now(),
        actor=policy.SYSTEM.id,
        action=action,
        subject=f"witness:{witness.label}",
        details=details,
    )


def _open_alarm(
    system: System,
    session: Session,
    witness: Witness,
    state: m.WitnessState,
    kind: str,
    detail: str,
    now: datetime,
) -> dict[str, str]:
    state.alarm, state.alarm_since, state.alarm_detail = kind, now, detail
    event = {"witness": witness.label, "kind": kind, "detail": detail, "start": leaves.instant(now)}
    system.ledger.append(session, [_alarm_leaf(system, "alarm.raise", witness, event)])
    return event


def _close_alarm(
    system: System, session: Session, witness: Witness, state: m.WitnessState, now: datetime
) -> dict[str, str]:
    assert state.alarm is not None and state.alarm_since is not None
    event = {
        "witness": witness.label,
        "kind": state.alarm,
        "start": leaves.instant(state.alarm_since),
        "end": leaves.instant(now),
    }
    state.alarm = state.alarm_since = state.alarm_detail = None
    system.ledger.append(session, [_alarm_leaf(system, "alarm.clear", witness, event)])
    return event


def _notify(system: System, event: str, body: dict[str, str]) -> None:
    url = system.settings.alarm_webhook_url
    if url:
        payload = json.dumps({"event": event, "camera": None, **body}, ensure_ascii=False)
        threading.Thread(
            target=alarms.deliver,
            args=(url, payload.encode(), system.settings.alarm_webhook_timeout_s),
            name="witness-alarm-webhook",
            daemon=False,
        ).start()


# ---- status and the background loop ------------------------------------------------------


@dataclass(frozen=True)
class WitnessStatus:
    witness: str
    url: str
    size: int | None
    last_ok_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    alarm: str | None
    alarm_since: datetime | None
    alarm_detail: str | None
    note: str | None


def status(system: System) -> list[WitnessStatus]:
    """Each configured witness as the log last saw it (URLs and errors redacted)."""
    out = []
    with system.reads() as session:
        for w in configured(system.settings):
            url = redaction.redact_url(w.url)
            row = session.get(m.WitnessState, w.vkey)
            if row is None:
                out.append(WitnessStatus(w.label, url, *(None,) * 8))
                continue
            secrets = redaction.secrets_of(w.url)

            def clean(text: str | None, secrets: tuple[str, ...] = secrets) -> str | None:
                return None if text is None else redaction.scrub(text, secrets)

            out.append(
                WitnessStatus(
                    w.label,
                    url,
                    row.size,
                    row.last_ok_at,
                    row.failing_since,
                    clean(row.last_error),
                    row.alarm,
                    row.alarm_since,
                    clean(row.alarm_detail),
                    row.note,
                )
            )
    return out


def submit_now(system: System, actor: Person) -> list[Outcome]:
    """``oversight ledger witness``: one submission to each witness now, for someone who
    may run a verification (it may raise or clear witness alarms)."""
    with system.reads() as session:
        authz.deployment(session, actor, "ledger.verify")
    return submit_all(system)


@dataclass(frozen=True)
class WitnessView:
    """One witness as the console and ``/metrics`` show it, nothing secret in it: the
    verifier key is public, the URL and the error texts pass the one redactor."""

    label: str
    vkey: str
    url: str
    size: int | None  # the size it last cosigned; None: never
    behind: int  # leaves of the local tree it has not cosigned; < 0: it cosigned more (a cut)
    cosigns_latest: bool  # its cosignature on our newest checkpoint is stored
    last_ok_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    alarm: str | None
    alarm_since: datetime | None
    alarm_detail: str | None


@dataclass(frozen=True)
class Overview:
    witnesses: list[WitnessView]
    quorum: int
    tree_size: int
    latest_size: int | None  # the newest signed checkpoint's size

    @property
    def cosigning_latest(self) -> int:
        return sum(w.cosigns_latest for w in self.witnesses)

    @property
    def quorum_met(self) -> bool:
        """The newest checkpoint carries the quorum of cosignatures (never without a
        witness: then nobody outside the operator vouches for it)."""
        return bool(self.witnesses) and self.cosigning_latest >= self.quorum


def overview(system: System, actor: Person) -> Overview:
    """What each configured witness cosigned, against the local tree, for ``actor`` (the
    ledger's readers: it is what the witness alarm leaves already say)."""
    witnesses = configured(system.settings)
    views = []
    with system.reads() as session:
        authz.deployment(session, actor, "ledger.read")
        tree = system.ledger.size(session)
        latest = system.ledger.latest_checkpoint(session)
        signed = set()
        if latest is not None:
            signed = set(
                session.scalars(
                    select(m.WitnessCosignature.witness).where(
                        m.WitnessCosignature.size == latest.size
                    )
                )
            )
        for w in witnesses:
            row = session.get(m.WitnessState, w.vkey) or m.WitnessState()
            secrets = redaction.secrets_of(w.url)

            def clean(text: str | None, secrets: tuple[str, ...] = secrets) -> str | None:
                return None if text is None else redaction.scrub(text, secrets)

            views.append(
                WitnessView(
                    label=w.label,
                    vkey=w.vkey,
                    url=redaction.redact_url(w.url),
                    size=row.size,
                    behind=tree - (row.size or 0),
                    cosigns_latest=w.label in signed,
                    last_ok_at=row.last_ok_at,
                    failing_since=row.failing_since,
                    last_error=clean(row.last_error),
                    alarm=row.alarm,
                    alarm_since=row.alarm_since,
                    alarm_detail=clean(row.alarm_detail),
                )
            )
    size = None if latest is None else latest.size
    return Overview(views, quorum(system.settings, witnesses), tree, size)


def open_alarms(system: System) -> list[tuple[str, str, datetime, str]]:
    """(witness, kind, since, detail) of each open witness alarm (compliance findings)."""
    return [
        (s.witness, s.alarm, s.alarm_since, s.alarm_detail or "")
        for s in status(system)
        if s.alarm is not None and s.alarm_since is not None
    ]


def submit_all(system: System) -> list[Outcome]:
    """One submission to every witness, one after another (the CLI, exports, tests)."""
    return [submit(system, w) for w in configured(system.settings)]


class Submitter:
    """A background thread submitting the newest checkpoint every
    ``OVERSIGHT_WITNESS_INTERVAL_S``; a failing witness is retried after
    min(backoff max, interval * 2**failures) * uniform(0.5, 1) seconds."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.witnesses = configured(system.settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures: dict[str, int] = {}
        self._next: dict[str, float] = {}

    def __enter__(self) -> Submitter:
        if self.witnesses:
            self._thread = threading.Thread(target=self._run, name="witness-submitter", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.system.settings.witness_timeout_s * 3 + 1)
            self._final()

    def _final(self) -> None:
        """One last submission on a clean stop, so the witnesses hold the last checkpoint
        (the recorder's stop leaf included); bounded by the timeout per witness."""
        for w in self.witnesses:
            try:
                submit(self.system, w)
            except Exception:  # stopping: log it, the alarms say the rest
                log.exception("witness %s: final submission failed", w.label)

    def _run(self) -> None:
        interval = self.system.settings.witness_interval_s
        elapsed = 0.0
        while True:
            self.round(elapsed)
            if self._stop.wait(interval):
                return
            elapsed += interval

    def round(self, now: float) -> None:
        """Submit to each witness whose retry time has come (``now``: seconds of the loop)."""
        settings = self.system.settings
        for w in self.witnesses:
            if self._stop.is_set() or self._next.get(w.vkey, 0.0) > now:
                continue
            try:
                outcome = submit(self.system, w)
            except Exception:  # a supervisor loop: log, back off, go on
                log.exception("witness %s: submission failed", w.label)
                outcome = Outcome(w.label, "failed")
            if outcome.result in ("failed", "refused"):
                n = self._failures[w.vkey] = self._failures.get(w.vkey, 0) + 1
                cap = min(settings.witness_backoff_max_s, settings.witness_interval_s * 2**n)
                self._next[w.vkey] = now + cap * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
            else:
                self._failures.pop(w.vkey, None)
                self._next.pop(w.vkey, None)
