"""``oversight evidence``: check an evidence package offline (no database, no data dir)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import JsonOption, console, print_json, settings_for
from oversight.errors import InvalidInput
from oversight.evidence import archive
from oversight.evidence.verify import Report, parse_trusted_keys, verify_package

evidence = typer.Typer(help="Evidence packages exported for a grant.", no_args_is_help=True)

EXIT_FAILED = 1
EXIT_UNTRUSTED = 3  # intact and validly signed, but by no key the recipient trusts


def register(app: typer.Typer) -> None:
    app.add_typer(evidence, name="evidence")


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{option}: cannot read {path}: {exc}") from None


@evidence.command("verify")
def verify(
    directory: Annotated[
        Path,
        typer.Argument(
            help="The evidence package: its folder, the folder its zip was unzipped into, "
            "or the zip itself.",
            metavar="PACKAGE",
        ),
    ],
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="The log's verifier key, obtained independently of the package."
        ),
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Read the trusted verifier key from a file.")
    ] = None,
    trusted_keys: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="File of trusted verifier keys, one per line, # comments "
            "(default: $OVERSIGHT_TRUSTED_KEYS_FILE).",
            show_default=False,
        ),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="A witness's cosignature verifier key you trust (repeatable).",
        ),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option(
            "--witness-quorum", min=1, help="Cosignatures required (default: every --witness-key)."
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Check an evidence package offline: signature, checkpoint, proofs, clip hashes, file list.

    PACKAGE is the package folder, the folder its zip was unzipped into, or the zip
    itself; a zip is checked (member count, total size, no absolute or `..` paths, no
    symbolic links; limits OVERSIGHT_EVIDENCE_ZIP_MAX_MEMBERS and _MAX_BYTES) and
    extracted only into a private temporary directory, removed afterwards.

    Prints one line per problem (`kind: file: detail`). Only a key you trust proves
    where a package comes from: anyone can re-sign a package with a key of their own.
    Get the log operator's key out of band (`oversight ledger pubkey` at the operator;
    compare `oversight ledger pubkey --fingerprint` by phone) and give it with `--key`,
    `--key-file` or a trusted-keys file.

    With `--witness-key` (repeatable), the package checkpoint must carry valid
    cosignatures from at least `--witness-quorum` of those witnesses (default: all);
    each witness that cosigned is printed with the time (UTC) of its cosignature.
    Fewer is a problem (`witness-quorum`, exit 1).

    Exit codes: 0 intact and signed by a trusted key; 1 a problem was found; 2 a usage
    error (unreadable key or file); 3 intact and validly signed, but no trusted key was
    given ("signature valid, origin key not trusted").
    """
    if key is not None and key_file is not None:
        raise InvalidInput("give --key or --key-file, not both")
    if key_file is not None:
        key = _read(key_file, "--key-file")
    settings = settings_for(None)
    keys_file = trusted_keys or settings.trusted_keys_file
    listed = []
    if keys_file is not None:
        listed = parse_trusted_keys(_read(keys_file, "--trusted-keys"), str(keys_file))
    with archive.opened(
        directory,
        max_members=settings.evidence_zip_max_members,
        max_bytes=settings.evidence_zip_max_bytes,
    ) as package:
        report = verify_package(
            package,
            trusted_key=key,
            trusted_keys=listed,
            witness_keys=witness_key or [],
            witness_quorum=witness_quorum,
        )
    report.directory = str(directory)
    if json_out:
        print_json(report.to_json())
    else:
        _print(report)
    if report.status == "failed":
        raise typer.Exit(EXIT_FAILED)
    if report.status == "untrusted":
        raise typer.Exit(EXIT_UNTRUSTED)


def _print(report: Report) -> None:
    console.print(
        f"package {report.directory}: {report.clips_checked} clips, {report.proofs_checked} "
        f"proofs, {report.bytes_checked} bytes checked"
        + (f"; log {report.origin} at tree size {report.tree_size}" if report.origin else "")
    )
    for cosigned in report.cosigned_by:
        sys.stdout.write(f"cosigned by witness {cosigned['witness']} at {cosigned['at']}\n")
    for warning in report.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    for p in report.problems:
        sys.stdout.write(p.line() + "\n")
    if report.status == "ok":
        console.print("OK: the package is intact and its footage is in the log (a trusted key).")
    elif report.status == "untrusted":
        # Plain lines, never wrapped: the fingerprint is read out and compared whole.
        sys.stdout.write(
            "UNTRUSTED: signature valid, origin key not trusted: the package is intact and "
            f"signed by the key it ships, fingerprint {report.fingerprint}\n"
            "Anyone can make such a key. Compare the fingerprint with the log operator's "
            "(`oversight ledger pubkey --fingerprint`, read out by phone), then verify "
            "again with --key or --trusted-keys.\n"
        )
    else:
        console.print(f"FAILED: {len(report.problems)} problems.")
