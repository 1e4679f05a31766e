"""``/metrics``: Prometheus text exposition (version 0.0.4) of the deployment's state.

Scrape it with a bearer token of a staff account (``authorization`` in Prometheus's
scrape config): like every route it refuses anonymous callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse

from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain import policy
from oversight.services import alarms, compliance, recording
from oversight.services.verify import latest_run

router = APIRouter(include_in_schema=False)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _metric(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return "\n".join(lines)


def _label(**values: str) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in values.items()
    )
    return "{" + inner + "}"


def exposition(system: System) -> str:
    states = Counter(s.state for s in recording.list_status(system, policy.SYSTEM))
    totals = recording.footage_totals(system)
    sealed, live, size = totals.segments_sealed, totals.segments_live, totals.bytes_live
    gaps, ledger_size = totals.gaps, totals.ledger_size
    run = latest_run(system)
    open_alarms = Counter(a.kind for a in alarms.list_alarms(system, policy.SYSTEM, open_only=True))
    findings = Counter(f.severity for f in compliance.report(system).findings)
    parts = [
        _metric(
            "oversight_cameras",
            "gauge",
            "Cameras by recorder state.",
            [(_label(state=k), v) for k, v in sorted(states.items())],
        ),
        _metric(
            "oversight_cameras_recording", "gauge", "Cameras recording now.",
            [("", states.get("recording", 0))],
        ),
        _metric(
            "oversight_segments_sealed_total", "counter", "Segments ever sealed.", [("", sealed)]
        ),
        _metric("oversight_segments_live", "gauge", "Sealed segments kept now.", [("", live)]),
        _metric("oversight_bytes_live", "gauge", "Bytes of sealed footage kept now.", [("", size)]),
        _metric("oversight_gaps_total", "counter", "Recorded gaps in footage.", [("", gaps)]),
        _metric("oversight_ledger_size", "gauge", "Leaves in the ledger.", [("", ledger_size)]),
        _metric(
            "oversight_last_verify_ok", "gauge",
            "1 if the last `oversight verify` found nothing wrong, 0 if it did, -1 if none ran.",
            [("", -1 if run is None else int(run.ok))],
        ),
        _metric(
            "oversight_last_verify_timestamp_seconds", "gauge",
            "When the last verify run finished (Unix time; 0 if none).",
            [("", 0 if run is None else run.finished_at.timestamp())],
        ),
        _metric(
            "oversight_alarms_open", "gauge", "Open alarms by kind.",
            [(_label(kind=k), open_alarms.get(k, 0)) for k in alarms.KINDS],
        ),
        _metric(
            "oversight_findings_open", "gauge", "Open compliance findings by severity.",
            [(_label(severity=k), v) for k, v in sorted(findings.items())],
        ),
    ]  # fmt: skip
    return "\n".join(parts) + "\n"


@router.get("/metrics")
def metrics(caller: Annotated[Caller, Depends(need("recordings.read"))]) -> PlainTextResponse:
    return PlainTextResponse(exposition(caller.system), media_type=CONTENT_TYPE)
