"""Step 3b of evidence verification: which witnesses the recipient trusts cosigned the
package checkpoint, and when (issue 20, item 4).

The checkpoint in ``checkpoint.txt`` (and in every proof) carries the log's signature
and, after it, the cosignature lines witnesses returned (c2sp.org/tlog-cosignature).
With ``--witness-key`` keys, each such cosignature must verify, and at least the quorum
of them (default: every key given) must be there, else ``witness-quorum``: a problem,
exit 1. Without witness keys nothing is required; cosignatures present are named in a
warning, since they prove nothing until their keys are trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from oversight.errors import InvalidInput, ProofError
from oversight.ledger import cosignature, note

if TYPE_CHECKING:
    from oversight.evidence.verify import Report

CHECKPOINT = "checkpoint.txt"


def parse_keys(keys: Sequence[str]) -> list[note.Verifier]:
    out: list[note.Verifier] = []
    for given in keys:
        try:
            verifier = note.parse_verifier(given.strip())
        except (InvalidInput, ProofError) as exc:
            raise InvalidInput(f"--witness-key: {exc}") from None
        if not isinstance(verifier, cosignature.CosignatureVerifier):
            raise InvalidInput(
                f"--witness-key: {verifier.name} is not a cosignature/v1 key (type 0x04)"
            )
        out.append(verifier)
    return out


def check(
    report: Report,
    text: str,
    log_verifier: note.Verifier,
    witnesses: Sequence[note.Verifier],
    quorum: int | None,
) -> None:
    opened = note.open_note(text, [log_verifier])  # step 3 verified it already
    body = opened.text.encode()
    others = list(opened.unverified_sigs)
    if not witnesses:
        if others:
            names = ", ".join(sorted({s.name for s in others}))
            report.warnings.append(
                f"the checkpoint carries {len(others)} other signatures ({names}); give "
                "--witness-key to check the witnesses you trust"
            )
        return
    for w in witnesses:
        sig = next((s for s in others if (s.name, s.key_id) == (w.name, w.key_id)), None)
        if sig is None:
            continue
        try:
            w.verify(body, sig.signature)
        except ProofError as exc:
            report.add("invalid-signature", CHECKPOINT, f"witness {w.name}: {exc.message}")
            continue
        when = datetime.fromtimestamp(cosignature.cosigned_at(sig.signature), UTC)
        report.cosigned_by.append({"witness": f"{w.name}+{w.key_id:08x}", "at": when.isoformat()})
    wanted = len(witnesses) if quorum is None else min(quorum, len(witnesses))
    report.witness_quorum = wanted
    if len(report.cosigned_by) < wanted:
        report.add(
            "witness-quorum",
            CHECKPOINT,
            f"{len(report.cosigned_by)} of the {len(witnesses)} trusted witnesses cosigned "
            f"the checkpoint, {wanted} required",
        )
