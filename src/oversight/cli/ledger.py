"""``oversight ledger``: keys, checkpoints, proofs and leaves of the tamper-evident log."""

from __future__ import annotations

import base64
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import DataDirOption, JsonOption, acting, console, open_system, print_json
from oversight.cli.common import settings_for as _settings_for
from oversight.errors import InvalidInput, NotFound, ProofError
from oversight.evidence.verify import key_fingerprint
from oversight.ledger import keys, leaves, note, proof
from oversight.ledger.log import StoredCheckpoint
from oversight.services import ledger as svc
from oversight.services import witnessing
from oversight.services.limits import MAX_LEAF

ledger = typer.Typer(help="The tamper-evident ledger (RFC 9162 Merkle log).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger, name="ledger")


def _cp_json(cp: StoredCheckpoint) -> dict[str, object]:
    return {
        "size": cp.size,
        "root": base64.b64encode(cp.root).decode(),
        "created_at": cp.created_at.isoformat(),
        "note": cp.note,
    }


@ledger.command("pubkey")
def pubkey(
    fingerprint: Annotated[
        bool,
        typer.Option(
            "--fingerprint", help="Print the key's fingerprint instead, to read out by phone."
        ),
    ] = False,
    all_keys: Annotated[
        bool,
        typer.Option(
            "--all", help="Every key this log was signed with: current first, then retired."
        ),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Print the verifier key that checks this log's checkpoints (give it to inspectors).

    Recipients of evidence packages need it out of band: `evidence verify` trusts no key
    shipped inside a package. Its fingerprint, read out by phone, lets them check a key
    they received by mail or found in a package."""
    keys_dir = _settings_for(data_dir).keys_dir
    key = keys.verifier_key(keys_dir)
    if all_keys:
        for vkey in keys.trusted_verifier_keys(keys_dir):
            sys.stdout.write((key_fingerprint(vkey) if fingerprint else vkey) + "\n")
        return
    sys.stdout.write((key_fingerprint(key) if fingerprint else key) + "\n")


def _key_change_out(change: svc.KeyChange, json_out: bool, next_step: str) -> None:
    if json_out:
        print_json(
            {"action": change.action, "old": change.old, "new": change.new, "leaf": change.leaf}
        )
        return
    typer.echo(f"leaf {change.leaf}: ledger key {change.action}")
    typer.echo(next_step)
    typer.echo(change.new)


@ledger.command("rotate-key")
def rotate_key(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Make a new signing key; the old one co-signs every checkpoint until `retire-key`.

    Old checkpoints keep verifying (the old public key is kept in keys/retired.pub).
    Give the new verifier key (printed last) to every witness and inspector, then run
    `oversight ledger retire-key`. Recorded in the ledger (operations leaf)."""
    with open_system(data_dir) as system:
        change = svc.rotate_key(system, acting(system))
    _key_change_out(
        change,
        json_out,
        "checkpoints are now signed by the new key and the old one; give the new verifier "
        "key to each witness (`oversight witness add-log ORIGIN KEY`) and inspector, "
        "then run `oversight ledger retire-key`. The new verifier key:",
    )


@ledger.command("retire-key")
def retire_key(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Stop co-signing with the previous key and delete its private half (after a
    rotation, once every witness trusts the new key). Recorded in the ledger."""
    with open_system(data_dir) as system:
        change = svc.retire_key(system, acting(system))
    _key_change_out(
        change, json_out, "the previous key is retired; checkpoints are signed by the key:"
    )


@ledger.command("checkpoint")
def checkpoint(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Print the latest signed checkpoint (C2SP tlog-checkpoint)."""
    with open_system(data_dir) as system:
        latest = svc.latest_checkpoint(system)
    if latest is None:
        raise NotFound("the ledger has no checkpoint yet: run `oversight ledger publish`")
    if json_out:
        print_json(_cp_json(latest))
    else:
        sys.stdout.write(latest.note)


@ledger.command("publish")
def publish(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Sign a checkpoint of the log as it is now (unless the latest already covers it)."""
    with open_system(data_dir) as system:
        cp = svc.publish(system)
    if json_out:
        print_json(_cp_json(cp))
    else:
        sys.stdout.write(cp.note)


@ledger.command("witness")
def witness(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Submit the newest checkpoint to every witness (OVERSIGHT_WITNESSES) now, then show
    what each last cosigned; exit 1 when one refuses it (a fork or a cut) or fails.

    `oversight record` and `oversight serve` do this in the background every
    OVERSIGHT_WITNESS_INTERVAL_S seconds."""
    with open_system(data_dir) as system:
        outcomes = witnessing.submit_now(system, acting(system))
        states = witnessing.status(system)
    if json_out:
        print_json(
            [{**asdict(o), "state": asdict(st)} for o, st in zip(outcomes, states, strict=True)]
        )
    else:
        if not outcomes:
            console.print("No witness is configured (OVERSIGHT_WITNESSES).")
        for o, st in zip(outcomes, states, strict=True):
            when = st.last_ok_at.isoformat() if st.last_ok_at else "never"
            sys.stdout.write(
                f"{o.witness}: {o.result}; cosigned {st.size if st.size is not None else '-'}"
                f" leaves, last answer {when}"
                + (f"; ALARM {st.alarm}: {st.alarm_detail}" if st.alarm else "")
                + (f"; {o.detail}" if o.detail and not st.alarm else "")
                + "\n"
            )
    if any(o.result in ("refused", "failed") for o in outcomes):
        raise typer.Exit(1)


@ledger.command("checkpoints")
def checkpoints(
    since: Annotated[
        int,
        typer.Option(
            "--since", help="Only checkpoints of at least this size.", min=0, max=MAX_LEAF
        ),
    ] = 0,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export every checkpoint (for witnesses): signed notes, one after another."""
    with open_system(data_dir) as system:
        found = svc.checkpoints(system, since=since)
    if json_out:
        print_json([_cp_json(cp) for cp in found])
    else:
        sys.stdout.write("".join(cp.note for cp in found))


@ledger.command("prove")
def prove(
    index: Annotated[int | None, typer.Option("--index", help="Leaf index to prove.")] = None,
    segment: Annotated[
        int | None, typer.Option("--segment", help="Segment id (from `segments list`).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the proof here (default: stdout).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write a C2SP tlog-proof of one leaf against the latest checkpoint."""
    if (index is None) == (segment is None):
        raise InvalidInput("give exactly one of --index and --segment")
    with open_system(data_dir) as system:
        made = svc.prove(system, acting(system), index=index, segment=segment)
    if out is None:
        sys.stdout.write(made.text)
    else:
        out.write_text(made.text)
        console.print(f"Wrote the proof of leaf {made.index} (tree size {made.size}) to {out}.")


@ledger.command("verify-proof")
def verify_proof(
    file: Annotated[Path, typer.Argument(help="A tlog-proof file.")],
    key: Annotated[
        list[str], typer.Option("--key", help="Trusted verifier key (repeat for several).")
    ],
    origin: Annotated[
        str | None, typer.Option("--origin", help="Require checkpoints of this log.")
    ] = None,
    leaf: Annotated[
        Path | None, typer.Option("--leaf", help="Leaf bytes, if not inside the proof.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Check a tlog-proof offline, with the verifier key alone (no database needed)."""
    try:
        text = file.read_text(encoding="utf-8")
        leaf_data = leaf.read_bytes() if leaf is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    try:
        verifiers = [note.parse_verifier(k) for k in key]
    except InvalidInput as exc:
        raise InvalidInput(f"--key: {exc}") from None
    cp, data = proof.verify(text, verifiers, origin=origin, leaf_data=leaf_data)
    index = proof.parse(text).index
    try:
        decoded: dict[str, object] | None = leaves.decode(data)
    except (InvalidInput, ValueError):
        decoded = None
    if json_out:
        print_json(
            {"ok": True, "index": index, "origin": cp.origin, "size": cp.size, "leaf": decoded}
        )
    else:
        console.print(f"OK: leaf {index} is in {cp.origin} at tree size {cp.size}.")
        if decoded is not None:
            console.print_json(data=decoded)


@ledger.command("show")
def show(
    index: Annotated[int, typer.Argument(help="Leaf index.", min=0, max=MAX_LEAF)],
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show one leaf: its index, hash and decoded content."""
    with open_system(data_dir) as system:
        stored = svc.leaf(system, acting(system), index)
    data = {
        "index": stored.index,
        "kind": stored.kind,
        "leaf_hash": stored.leaf_hash.hex(),
        "leaf": None if stored.data is None else leaves.decode(stored.data),
        "withheld": stored.withheld,
    }
    if json_out:
        print_json(data)
    else:
        console.print(f"leaf {stored.index} ({stored.kind}) hash {stored.leaf_hash.hex()}")
        if stored.withheld:
            console.print("(content withheld: access-register leaves need the audit.read role)")
        else:
            console.print_json(data=data["leaf"])


@ledger.command("list")
def list_leaves(
    since: Annotated[
        int, typer.Option("--since", help="First leaf index.", min=0, max=MAX_LEAF)
    ] = 0,
    limit: Annotated[int, typer.Option("--limit", help="At most this many leaves.")] = 50,
    kind: Annotated[str | None, typer.Option("--kind", help="Only leaves of this type.")] = None,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List leaves of the log, oldest first."""
    if not 1 <= limit <= MAX_LEAF:
        raise InvalidInput(f"--limit must be between 1 and {MAX_LEAF}")
    if kind is not None and kind not in leaves.LEAF_TYPES:
        raise InvalidInput(f"--kind {kind!r} is not one of {', '.join(leaves.LEAF_TYPES)}")
    with open_system(data_dir) as system:
        found = svc.list_leaves(system, acting(system), since=since, limit=limit, kind=kind)
    items = [
        {
            "index": r.index,
            "kind": r.kind,
            "leaf": None if r.data is None else leaves.decode(r.data),
            "withheld": r.withheld,
        }
        for r in found
    ]
    if json_out:
        print_json(items)
        return
    for item in items:
        leaf = item["leaf"]
        if not isinstance(leaf, dict):
            console.print(f"{item['index']:>8}  {'(withheld)':<20}  {item['kind']:<16}")
            continue
        what = leaf.get("action") or leaf.get("camera") or leaf.get("target") or ""
        console.print(f"{item['index']:>8}  {leaf['at']}  {item['kind']:<16} {what}")


__all__ = ["ProofError", "ledger", "register"]
