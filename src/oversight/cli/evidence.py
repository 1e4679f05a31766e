"""``oversight evidence``: check an evidence package offline (no database, no data dir)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import JsonOption, console, print_json
from oversight.errors import InvalidInput
from oversight.evidence.verify import Report, verify_package

evidence = typer.Typer(help="Evidence packages exported for a grant.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(evidence, name="evidence")


@evidence.command("verify")
def verify(
    directory: Annotated[Path, typer.Argument(help="The evidence package directory.")],
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="The log's verifier key, obtained independently of the package."
        ),
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Read the trusted verifier key from a file.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Check an evidence package offline: signature, checkpoint, proofs, clip hashes, file list.

    Prints one line per problem (`kind: file: detail`) and exits 1 on any. Without
    `--key`/`--key-file` the key shipped in the package is used, with a warning.
    """
    if key is not None and key_file is not None:
        raise InvalidInput("give --key or --key-file, not both")
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"--key-file: cannot read {key_file}: {exc}") from None
    report = verify_package(directory, trusted_key=key)
    if json_out:
        print_json(report.to_json())
    else:
        _print(report)
    if not report.ok:
        raise typer.Exit(1)


def _print(report: Report) -> None:
    console.print(
        f"package {report.directory}: {report.clips_checked} clips, {report.proofs_checked} "
        f"proofs, {report.bytes_checked} bytes checked"
        + (f"; log {report.origin} at tree size {report.tree_size}" if report.origin else "")
    )
    for warning in report.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    for p in report.problems:
        sys.stdout.write(p.line() + "\n")
    if report.ok:
        trust = "the trusted key" if report.key_trusted else "the key shipped in the package"
        console.print(f"OK: the package is intact and its footage is in the log ({trust}).")
    else:
        console.print(f"FAILED: {len(report.problems)} problems.")
