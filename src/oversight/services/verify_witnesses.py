"""Step 5 of ``oversight verify``: what each configured witness cosigned, against our log.

For each witness of ``OVERSIGHT_WITNESSES`` two checkpoints are judged: the newest it
serves (``GET URL/latest/ORIGIN``, so an insider who cut the database cannot hide it)
and the newest stored with its cosignature (``witness_states.note``). Each must carry a
cosignature that verifies with the witness's key, and name a tree that is a prefix of
ours: larger than our log is ``truncated``, another root at its size is ``fork``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.errors import ProofError
from oversight.ledger import cosignature, merkle, note
from oversight.redaction import redact_url, scrub
from oversight.services import witnessing

if TYPE_CHECKING:
    from oversight.services.verify import Report

NO_WITNESS = (
    "no witness is configured (OVERSIGHT_WITNESSES): nobody outside the operator can "
    "show that the ledger was not cut or rewritten"
)


def check(session: Any, system: System, levels: list[list[bytes]], report: Report) -> None:
    witnesses = witnessing.configured(system.settings)  # a bad key: ConfigError, exit 2
    if not witnesses:
        report.warnings.append(NO_WITNESS)
        return
    size = len(levels[0]) if levels else 0
    origin = system.ledger.origin
    for w in witnesses:
        answer = witnessing.fetch_latest(w, origin, system.settings.witness_timeout_s)
        if answer.status == 200:
            _judge(
                w, "served", answer.body.decode("utf-8", "replace"), origin, levels, size, report
            )
        elif answer.status == 404:
            report.warnings.append(f"witness {w.label} has cosigned no checkpoint of {origin}")
        else:
            why = f"HTTP {answer.status}" if answer.status else answer.error
            report.warnings.append(
                f"witness {w.label} ({redact_url(w.url)}) could not be asked: {scrub(why or '')}"
            )
        row = session.get(m.WitnessState, w.vkey)
        if row is not None and row.note:
            _judge(w, "stored", row.note, origin, levels, size, report)
    vouching = {entry["witness"] for entry in report.witnesses}
    wanted = witnessing.quorum(system.settings, witnesses)
    if len(vouching) < wanted:
        report.warnings.append(
            f"only {len(vouching)} of the {len(witnesses)} witnesses vouch for this log with a "
            f"valid cosignature; the quorum (OVERSIGHT_WITNESS_QUORUM) is {wanted}"
        )


def _judge(
    w: witnessing.Witness,
    source: str,
    text: str,
    origin: str,
    levels: list[list[bytes]],
    size: int,
    report: Report,
) -> None:
    name = f"witness {w.label}"
    try:
        cp, opened = note.open_checkpoint(text, [w.verifier], origin=origin)
    except ProofError as exc:
        report.warnings.append(f"{name}: the {source} checkpoint does not verify: {exc.message}")
        return
    when = max(cosignature.cosigned_at(s.signature) for s in opened.sigs)
    report.witnesses.append(
        {
            "witness": w.label,
            "url": redact_url(w.url),
            "source": source,
            "size": cp.size,
            "cosigned_at": datetime.fromtimestamp(when, UTC).isoformat(),
        }
    )
    if cp.size > size:
        report.add(
            "truncated",
            name,
            f"it cosigned {cp.size} leaves ({source}), the log holds {size}: "
            f"{cp.size - size} leaves were removed",
        )
    elif merkle.tree_hash(cp.size, lambda lv, i: levels[lv][i]) != cp.root_hash:
        report.add(
            "fork",
            name,
            f"it cosigned another tree of {cp.size} leaves ({source}) than the log's "
            f"first {cp.size} of {size}: history was rewritten",
        )
