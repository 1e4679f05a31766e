"""A step of ``oversight verify`` for the history of exports (issue 22, item 6): every
row of ``exports`` is the index of an ``export.done`` access leaf and says what that
leaf says (who, grant, request, cameras, range, destination, package hashes, the
export leaf); every ``export.done`` leaf has its row. Rows are read raw
(``verify_rows``): a malformed value is reported, never a crash (issue 18, finding 16).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from oversight.db import models as m
from oversight.errors import InvalidInput
from oversight.ledger import leaves
from oversight.services import verify_rows as rows
from oversight.services.exports import DONE, done_details

if TYPE_CHECKING:
    from oversight.services.verify import Report

_COLUMNS = (
    "id", "name", "custodian", "witness", "grant_id", "request_id", "cameras", "start_at",
    "end_at", "destination", "form", "manifest_sha256", "zip_sha256", "zip_bytes",
    "export_leaf", "leaf_index",
)  # fmt: skip


def _done_leaves(stored: Sequence[rows.Leaf]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for leaf in stored:
        if leaf.kind != "access" or leaf.data is None:
            continue
        try:
            obj = leaves.decode(leaf.data)
        except InvalidInput:
            continue  # reported as a modified leaf already
        if obj.get("action") == DONE:
            out[leaf.index] = obj
    return out


def _row(raw: Any) -> dict[str, Any]:
    """The row's fields as the leaf has them, or raises ``rows._Wrong``."""
    cameras = raw._mapping["cameras"]
    if isinstance(cameras, str):
        try:
            cameras = json.loads(cameras)
        except ValueError:
            raise rows._Wrong("cameras", cameras, "a JSON list") from None
    if not isinstance(cameras, list) or not all(isinstance(c, str) for c in cameras):
        raise rows._Wrong("cameras", cameras, "a list of camera ids")
    nullable = {"zip_sha256", "zip_bytes"}
    fields: dict[str, Any] = {"cameras": cameras}
    for column in ("name", "custodian", "witness", "destination", "form", "manifest_sha256"):
        fields[column] = rows._str(raw, column)
    for column in ("grant_id", "request_id", "export_leaf", "leaf_index"):
        fields[column] = rows._int(raw, column)
    for column in nullable:
        value = raw._mapping[column]
        if value is None:
            fields[column] = None
        else:
            fields[column] = (
                rows._str(raw, column) if column == "zip_sha256" else rows._int(raw, column)
            )
    fields["start_at"] = rows._instant(raw, "start_at")
    fields["end_at"] = rows._instant(raw, "end_at")
    return fields


def check(session: Session, stored: Sequence[rows.Leaf], report: Report) -> None:
    done = _done_leaves(stored)
    seen: set[int] = set()
    for raw in rows._raw(session, m.Export, _COLUMNS, "id"):
        name = f"export {rows._key(raw, 'id')}"
        try:
            row = _row(raw)
        except rows._Wrong as exc:
            report.add("malformed", name, str(exc))
            continue
        leaf = done.get(row["leaf_index"])
        if leaf is None:
            report.add("index-mismatch", name, "in the history of exports but not in the log")
            continue
        seen.add(row["leaf_index"])
        differ = [
            key
            for key, value in done_details(row).items()
            if leaf.get("details", {}).get(key) != value
        ]
        differ += [
            what
            for what, mine, theirs in (
                ("custodian and witness", [row["custodian"], row["witness"]], leaf["actors"]),
                ("grant", str(row["grant_id"]), leaf["grant"]),
                ("destination", row["destination"], leaf["destination"]),
            )
            if mine != theirs
        ]
        if differ:
            report.add(
                "index-mismatch",
                name,
                f"the history row differs from its ledger leaf: {', '.join(differ)}",
            )
    for index in sorted(done.keys() - seen):
        report.add(
            "index-mismatch", f"ledger leaf {index}", "an export not in the history of exports"
        )
