"""``/metrics``: Prometheus text exposition (version 0.0.4) of the deployment's state.

Scrape it with a bearer token of a staff account (``authorization`` in Prometheus's
scrape config): like every route it refuses anonymous callers. Written by
``prometheus_client`` (escaping, names, counter suffixes): each scrape reads the state
afresh through a collector into a registry of its own, so nothing global is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from oversight.api.security import Caller, need
from oversight.bootstrap import System
from oversight.domain import policy
from oversight.services import alarms, compliance, recording, witnessing
from oversight.services.verify import latest_run

router = APIRouter(include_in_schema=False)
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


def _by(name: str, help_text: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=[label])
    for key, value in counts.items():
        family.add_metric([key], value)
    return family


class StateCollector(Collector):
    """The deployment's state at scrape time, read through the services."""

    def __init__(self, system: System) -> None:
        self.system = system

    def collect(self) -> Iterator[Metric]:
        system = self.system
        states = Counter(s.state for s in recording.list_status(system, policy.SYSTEM))
        totals = recording.footage_totals(system)
        run = latest_run(system)
        kinds = Counter(a.kind for a in alarms.list_alarms(system, policy.SYSTEM, open_only=True))
        findings = Counter(f.severity for f in compliance.report(system).findings)
        yield _by(
            "oversight_cameras", "Cameras by recorder state.", "state", dict(sorted(states.items()))
        )
        yield _gauge(
            "oversight_cameras_recording", "Cameras recording now.", states.get("recording", 0)
        )
        yield CounterMetricFamily(
            "oversight_segments_sealed_total", "Segments ever sealed.", value=totals.segments_sealed
        )
        yield _gauge("oversight_segments_live", "Sealed segments kept now.", totals.segments_live)
        yield _gauge("oversight_bytes_live", "Bytes of sealed footage kept now.", totals.bytes_live)
        yield CounterMetricFamily(
            "oversight_gaps_total", "Recorded gaps in footage.", value=totals.gaps
        )
        yield _gauge("oversight_ledger_size", "Leaves in the ledger.", totals.ledger_size)
        yield _gauge(
            "oversight_last_verify_ok",
            "1 if the last `oversight verify` found nothing wrong, 0 if it did, -1 if none ran.",
            -1 if run is None else int(run.ok),
        )
        yield _gauge(
            "oversight_last_verify_timestamp_seconds",
            "When the last verify run finished (Unix time; 0 if none).",
            0 if run is None else run.finished_at.timestamp(),
        )
        yield _by(
            "oversight_alarms_open",
            "Open alarms by kind.",
            "kind",
            {k: kinds.get(k, 0) for k in alarms.KINDS},
        )
        yield _by(
            "oversight_findings_open", "Open compliance findings by severity.", "severity",
            dict(sorted(findings.items())),
        )  # fmt: skip
        yield from _witnesses(witnessing.overview(system, policy.SYSTEM))


def _witnesses(seen: witnessing.Overview) -> Iterator[Metric]:
    """Per witness (label ``witness``: its key name and id) what it last cosigned; a
    witness that never cosigned reads 0 for its size and time."""
    size = GaugeMetricFamily(
        "oversight_witness_cosigned_size", "Leaves the witness last cosigned.", labels=["witness"]
    )
    when = GaugeMetricFamily(
        "oversight_witness_last_cosigned_timestamp_seconds",
        "When the witness last cosigned a checkpoint (Unix time; 0 if never).",
        labels=["witness"],
    )
    behind = GaugeMetricFamily(
        "oversight_witness_leaves_behind",
        "Leaves of the local tree the witness has not cosigned (negative: it cosigned more "
        "leaves than the tree holds, a cut).",
        labels=["witness"],
    )
    alarm = GaugeMetricFamily(
        "oversight_witness_alarm_open",
        "1 if the witness has an open alarm of this kind (witness-fork is critical).",
        labels=["witness", "kind"],
    )
    for w in seen.witnesses:
        size.add_metric([w.label], w.size or 0)
        when.add_metric([w.label], 0 if w.last_ok_at is None else w.last_ok_at.timestamp())
        behind.add_metric([w.label], w.behind)
        for kind in (witnessing.FORK, witnessing.UNREACHABLE):
            alarm.add_metric([w.label, kind], int(w.alarm == kind))
    yield from (size, when, behind, alarm)
    yield _gauge("oversight_witnesses", "Witnesses configured.", len(seen.witnesses))
    yield _gauge(
        "oversight_witness_quorum",
        "Cosignatures a checkpoint needs (OVERSIGHT_WITNESS_QUORUM; 0 without witnesses).",
        seen.quorum,
    )
    yield _gauge(
        "oversight_witnesses_cosigning_latest",
        "Witnesses whose cosignature on the latest checkpoint is stored.",
        seen.cosigning_latest,
    )
    yield _gauge(
        "oversight_witness_quorum_met",
        "1 if the latest checkpoint carries the quorum of cosignatures, else 0.",
        int(seen.quorum_met),
    )


def exposition(system: System) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(system))
    return generate_latest(registry).decode("utf-8")


@router.get("/metrics")
def metrics(caller: Annotated[Caller, Depends(need("recordings.read"))]) -> Response:
    return Response(exposition(caller.system), media_type=CONTENT_TYPE)
