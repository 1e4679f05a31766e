"""``oversight verify``: prove that nothing recorded was altered, removed or hidden."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    err_console,
    open_system,
    print_json,
)
from oversight.errors import InvalidInput
from oversight.services import verify as svc


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    sample: Annotated[
        int | None, typer.Option("--sample", help="Check only N random segments (quick check).")
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="Checkpoints a witness kept (from `ledger checkpoints`)."),
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Verifier key to trust, repeatable (default: this deployment's own, "
            "current and retired).",
        ),
    ] = None,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Check the ledger, every stored segment and the index; exit 1 on any discrepancy.

    Kinds of discrepancy: modified, missing, unexpected, index-mismatch (an index row,
    e.g. of segments or of the history of exports, differs from its leaf), fork (a witness
    cosigned another history), truncated (a witness cosigned more leaves than the log
    holds), malformed (a row holding a value of the wrong type, e.g. edited directly in
    the database), exposed (a file or directory other local accounts can reach),
    unleased (in a recorder pool, a segment sealed as the lease holder by a node that
    did not hold the camera's lease then; late footage is a warning).
    Each configured witness (OVERSIGHT_WITNESSES) is asked for its newest cosigned
    checkpoint; with none configured the report warns that nobody outside the operator
    vouches for the ledger.
    """
    witness = None
    if against is not None:
        try:
            witness = against.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"--against: cannot read {against}: {exc}") from None
    show_bar = not json_out and err_console.is_terminal
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not show_bar,
    )
    task = bar.add_task("hashing footage", total=None)
    with bar, open_system(data_dir) as system:
        started = system.clock.now()
        report = svc.verify(
            system,
            sample=sample,
            witness=witness,
            verifiers=key or (),
            progress=lambda n: bar.advance(task, n),
            on_total=lambda total: bar.update(task, total=total),
        )
        svc.record_run(system, acting(system), report, started)
    if json_out:
        print_json(report.to_json())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: svc.Report) -> None:
    checked = f"{report.segments_checked} of {report.segments_total} segments"
    console.print(
        f"ledger: {report.ledger_size} leaves, {report.checkpoints_checked} checkpoints"
        + (
            f", {report.witness_checkpoints_checked} witness checkpoints"
            if report.witness_checkpoints_checked
            else ""
        )
        + f"; footage: {checked} ({report.bytes_checked} bytes)"
        + (" (random sample)" if report.sampled else "")
    )
    for w in report.witnesses:
        sys.stdout.write(
            f"witness {w['witness']}: cosigned {w['size']} leaves at {w['cosigned_at']}"
            f" ({w['source']})\n"
        )
    for warning in report.warnings:
        sys.stdout.write(f"warning: {warning}\n")
    for p in report.problems:
        sys.stdout.write(f"{p.kind}: {p.object}: {p.detail}\n")
    if report.ok:
        console.print("OK: nothing recorded has been altered, removed or hidden.")
    else:
        console.print(f"FAILED: {len(report.problems)} discrepancies.")
