"""``oversight witness``: run a C2SP tlog-witness for someone else's ledger.

A separate program from the rest of Oversight: its own data dir, key and SQLite.
An inspector (the county police, a court) runs it and gives the operator the
verifier key that ``init`` prints last.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import JsonOption, print_json, print_table
from oversight.errors import InvalidInput, NotFound
from oversight.witness import protocol, server
from oversight.witness.store import Store, init, retire, rotate

witness = typer.Typer(
    no_args_is_help=True,
    help="Witness someone else's ledger: cosign its checkpoints (C2SP tlog-witness).",
)

WitnessDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="OVERSIGHT_WITNESS_DATA_DIR",
        help="The witness's own data directory (default: $OVERSIGHT_WITNESS_DATA_DIR "
        "or ./witness-data).",
    ),
]
_DEFAULT_DIR = Path("witness-data")


def register(app: typer.Typer) -> None:
    app.add_typer(witness, name="witness")


@witness.command("init")
def init_cmd(
    name: Annotated[
        str | None,
        typer.Option("--name", help="The witness's key name (default: witness.local/<hostname>)."),
    ] = None,
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Create the data dir (0700), its SQLite and cosignature key (0600); print the key."""
    vkey = init(data_dir, f"witness.local/{socket.gethostname()}" if name is None else name)
    typer.echo(f"witness initialized in {data_dir}")
    typer.echo("give this verifier key to each log operator you witness:")
    typer.echo(vkey)


@witness.command("rotate-key")
def rotate_key_cmd(
    name: Annotated[
        str | None,
        typer.Option("--name", help="The new key's name (default: the current key's name)."),
    ] = None,
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Make a new cosignature key current; the previous one keeps cosigning beside it
    (two lines per cosignature) until `retire-key`. Prints the new key last."""
    vkey = rotate(data_dir, name)
    typer.echo(f"new witness key in {data_dir}; the previous key cosigns beside it until retired")
    typer.echo(
        "next: give the new key to each log operator (OVERSIGHT_WITNESSES), and once all"
        " have switched run `oversight witness retire-key`"
    )
    typer.echo(vkey)


@witness.command("retire-key")
def retire_key_cmd(data_dir: WitnessDirOption = _DEFAULT_DIR) -> None:
    """Delete the retiring private key (only the current key cosigns from now on); its
    verifier key is kept in retired-keys.txt, so old cosignatures still verify."""
    vkey = retire(data_dir)
    typer.echo(f"retired {vkey}")
    typer.echo("its private key is deleted; its verifier key stays in retired-keys.txt")


@witness.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8421,
    prefix: Annotated[
        str, typer.Option("--prefix", help="URL prefix of the endpoints (default: none).")
    ] = "",
    max_body: Annotated[
        int,
        typer.Option(
            "--max-body-bytes",
            envvar="OVERSIGHT_WITNESS_MAX_BODY_BYTES",
            min=1024,
            max=64 << 20,
            help="Largest add-checkpoint body accepted; larger is 413 unread.",
        ),
    ] = protocol.DEFAULT_MAX_BODY_BYTES,
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Serve POST <prefix>/add-checkpoint and GET <prefix>/latest/<origin>."""
    if any(c.isspace() or c in "?#{}" for c in prefix):
        raise InvalidInput(f"invalid --prefix {prefix!r}")
    with Store(data_dir) as store:
        url = f"http://{host}:{port}{server.normalize_prefix(prefix)}"
        typer.echo(f"witness {store.vkey} serving on {url}")
        if store.retiring_vkey is not None:
            typer.echo(f"the retiring key {store.retiring_vkey} cosigns too until retire-key")
        server.serve(store, host=host, port=port, prefix=prefix, max_body_bytes=max_body)


@witness.command("add-log")
def add_log_cmd(
    origin: Annotated[str, typer.Argument(help="The log's checkpoint origin line.")],
    vkey: Annotated[str, typer.Argument(help="The log's verifier key (name+id+base64).")],
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Trust VKEY's signatures on ORIGIN's checkpoints (again with a new key: rotation)."""
    with Store(data_dir) as store:
        store.add_log(origin, vkey)
    typer.echo(f"witnessing {origin}")


@witness.command("list")
def list_cmd(json_out: JsonOption = False, data_dir: WitnessDirOption = _DEFAULT_DIR) -> None:
    """The logs this witness knows, with the size it last cosigned and when."""
    with Store(data_dir) as store:
        logs = store.logs()
        vkey, retiring, retired = store.vkey, store.retiring_vkey, store.retired()
        conflicts = store.conflict_counts()
    rows = [
        {
            "origin": log.origin,
            "size": log.size,
            "root_hash": None if log.root_hash is None else log.root_hash.hex(),
            "cosigned_at": log.cosigned_at,
            "keys": list(log.vkeys),
            "conflicts": conflicts.get(log.origin, 0),
        }
        for log in logs
    ]
    if json_out:
        print_json({"witness": vkey, "retiring": retiring, "retired": retired, "logs": rows})
        return
    if retiring is not None:
        typer.echo(f"retiring key (still cosigning): {retiring}")
    for old in retired:
        typer.echo(f"retired key: {old}")
    print_table(
        f"Logs witnessed by {vkey}",
        ["origin", "cosigned size", "cosigned at", "keys", "conflicts"],
        [
            [
                log.origin,
                log.size,
                log.cosigned_at or "never",
                len(log.vkeys),
                conflicts.get(log.origin, 0),
            ]
            for log in logs
        ],
    )


@witness.command("conflicts")
def conflicts_cmd(
    origin: Annotated[str, typer.Argument(help="The log's origin line.")],
    json_out: JsonOption = False,
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Checkpoints ORIGIN's key signed that this witness refused as not extending what it
    cosigned: the log's own signed word on a fork or a cut. Exit 1 if there are any."""
    with Store(data_dir) as store:
        found = store.conflicts(origin)
    rows = [
        {
            "size": c.size,
            "root_hash": c.root_hash.hex(),
            "cosigned_size": c.cosigned_size,
            "cosigned_root": None if c.cosigned_root is None else c.cosigned_root.hex(),
            "status": c.status,
            "reason": c.reason,
            "seen_at": c.seen_at,
            "note": c.note,
        }
        for c in found
    ]
    if json_out:
        print_json({"origin": origin, "conflicts": rows})
    elif not found:
        typer.echo(f"no conflicting checkpoint of {origin} seen")
    else:
        print_table(
            f"Refused checkpoints signed by {origin}",
            ["seen at", "size", "root", "we had cosigned", "answer"],
            [[c.seen_at, c.size, c.root_hash.hex()[:16], c.cosigned_size, c.status] for c in found],
        )
    if found:
        raise typer.Exit(1)


@witness.command("latest")
def latest_cmd(
    origin: Annotated[str, typer.Argument(help="The log's origin line.")],
    data_dir: WitnessDirOption = _DEFAULT_DIR,
) -> None:
    """Print the newest checkpoint of ORIGIN this witness cosigned (the signed note)."""
    with Store(data_dir) as store:
        cosigned = store.latest(origin)
    if cosigned is None:
        raise NotFound(f"no checkpoint of {origin!r} cosigned yet")
    typer.echo(cosigned, nl=False)
