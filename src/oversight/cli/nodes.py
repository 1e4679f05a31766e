"""``oversight nodes``: the recorder pool's nodes (issue 21, docs/scale.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    open_system,
    print_json,
    print_table,
)
from oversight.services import pool

nodes = typer.Typer(
    help="Recorder pool nodes: list them, drain one (PostgreSQL only).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(nodes, name="nodes")


@nodes.command("list")
def list_cmd(json_out: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Every node that joined: host, capacity, cameras held now, last heartbeat, state
    (live, draining, lost: no heartbeat within the lease time-to-live, stopped)."""
    with open_system(data_dir) as system:
        found = pool.list_nodes(system, acting(system))
    if json_out:
        print_json([asdict(n) for n in found])
        return
    print_table(
        "Recorder nodes",
        ["node", "state", "host", "capacity", "cameras", "last seen", "version"],
        [
            [n.name, n.state, n.host, n.capacity, n.cameras, f"{n.seen_ago_s:.1f} s ago", n.version]
            for n in found
        ],
    )


@nodes.command("rebalance")
def rebalance_cmd(data_dir: DataDirOption = None) -> None:
    """Ask every live node to let go what it holds beyond its fair share by capacity,
    for the others to claim (a new node's join does this by itself; a node back from a
    partition does not, so it never takes cameras back on its own)."""
    with open_system(data_dir) as system:
        asked = pool.rebalance(system, acting(system))
        within = system.settings.pool_claim_interval_s
    typer.echo(f"{asked} live node(s) asked to rebalance within {within:g} s")


@nodes.command("drain")
def drain_cmd(
    name: Annotated[str, typer.Argument(help="The node to drain.")],
    data_dir: DataDirOption = None,
) -> None:
    """Ask NAME to seal its open segments, let its cameras go and stop; the other nodes
    claim them at their next cycle (OVERSIGHT_POOL_CLAIM_INTERVAL_S)."""
    with open_system(data_dir) as system:
        pool.drain(system, acting(system), name)
    typer.echo(
        f"node {name} is draining: it stops within {system.settings.pool_claim_interval_s:g} s"
    )
