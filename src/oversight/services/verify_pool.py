"""Step 7 of ``oversight verify`` for a recorder pool (issue 21): every segment a node
sealed as the lease holder was sealed while it held the lease.

The handover leaves say who held each camera's lease from which leaf on (``to_node``,
``to_epoch``). A ``segment_sealed`` leaf naming a node and epoch with ``lease: held``
must come after the handover that gave that node that epoch and before the next one;
otherwise it is ``unleased``: two nodes would both claim to own that footage. A segment
marked ``lease: lost`` (late) is footage its node kept after losing the lease: it is
counted in a warning, never a problem, since nothing was discarded or taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from oversight.errors import InvalidInput
from oversight.ledger import leaves
from oversight.services import verify_rows as rows

if TYPE_CHECKING:
    from oversight.services.verify import Report


def check(stored: Sequence[rows.Leaf], report: Report) -> None:
    # (camera, copy) -> (node, epoch, from leaf): each copy of a redundant camera has
    # its own lease.
    holder: dict[tuple[str, int], tuple[str, int, int]] = {}
    late: dict[str, int] = {}
    for leaf in stored:
        if leaf.kind not in ("handover", "segment_sealed") or leaf.data is None:
            continue
        try:
            obj = leaves.decode(leaf.data)
        except InvalidInput:
            continue  # reported as a modified leaf already
        camera, copy = obj.get("camera"), obj.get("copy", 0)
        if not isinstance(camera, str) or not isinstance(copy, int):
            continue
        if obj["type"] == "handover":
            node, epoch = obj.get("to_node"), obj.get("to_epoch")
            if isinstance(node, str) and isinstance(epoch, int):
                holder[camera, copy] = (node, epoch, leaf.index)
            continue
        node, epoch = obj.get("node"), obj.get("epoch")
        if node is None:
            continue  # a single-machine recorder: no lease to hold
        name = f"segment {camera}#{obj.get('seq')}" + (f" (copy {copy})" if copy else "")
        if obj.get("lease") == leaves.LOST:
            late[node] = late.get(node, 0) + 1
            continue
        held = holder.get((camera, copy))
        if held is None:
            report.add(
                "unleased",
                name,
                f"sealed by node {node} (epoch {epoch}) as the lease holder, but no node "
                "was ever given this camera's lease",
            )
        elif (held[0], held[1]) != (node, epoch):
            report.add(
                "unleased",
                name,
                f"sealed by node {node} (epoch {epoch}) as the lease holder, but node "
                f"{held[0]} held epoch {held[1]} since leaf {held[2]}",
            )
    for node, count in sorted(late.items()):
        report.warnings.append(
            f"node {node} sealed {count} segment(s) after losing their lease (kept as late "
            "footage, chained, marked lease: lost)"
        )
