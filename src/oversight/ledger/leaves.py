"""Ledger leaf types and their canonical bytes.

Encoding v1 (documented in docs/ledger.md): RFC 8785 (JCS) JSON of an object whose
values are strings, integers (|n| < 2^53), or objects/lists of those; no floats, no
null, no booleans. For such values JCS is exactly: keys sorted, no whitespace, UTF-8,
minimal string escapes. Every leaf carries ``"v": 1`` and ``"type"``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from oversight.errors import InvalidInput
from oversight.redaction import scrub

VERSION = 1
LEAF_TYPES = (
    "registry",
    "segment_sealed",
    "segment_deleted",
    "gap",
    "access",
    "retention",
    "person",
    "health",
    "operations",
    "clock",
    "handover",
)
# The Art. 14(3) register: who recorded, viewed, copied or retrieved footage. The log
# indexes these leaves by their time (``register_times``) so the register of a period
# is read without decoding the whole ledger.
REGISTER_TYPES = ("segment_sealed", "access")
_MAX_INT = 2**53 - 1
HELD, LOST = "held", "lost"  # a pool segment's lease when it was sealed

Value = str | int | Sequence[Any] | Mapping[str, Any]


def _check(value: Any, path: str) -> None:
    # Hot path of every append: exact type tests before the ABC checks (which are
    # slow), and the error path string built only when descending. Keys are not tested
    # here: orjson refuses a key that is not a string, and ``canonical`` reports it.
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str:
                continue
            if item_kind is int and -_MAX_INT <= item <= _MAX_INT:
                continue
            _check(item, f"{path}.{key}")
        return
    if kind is str:
        return
    if kind is int:
        if -_MAX_INT <= value <= _MAX_INT:
            return
        raise InvalidInput(f"ledger leaf field {path}: integer out of the I-JSON range")
    if kind is list or kind is tuple:
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    _check_other(value, path)


def _check_other(value: Any, path: str) -> None:
    if isinstance(value, bool | float | bytes | bytearray) or value is None:
        raise InvalidInput(f"ledger leaf field {path}: only strings and integers are allowed")
    if isinstance(value, int | str):  # subclasses such as enums
        _check(int(value) if isinstance(value, int) else str(value), path)
    elif isinstance(value, Mapping):
        _check(dict(value), path)
    elif isinstance(value, Sequence):
        _check(list(value), path)
    else:
        raise InvalidInput(f"ledger leaf field {path}: unsupported type {type(value).__name__}")


def canonical(obj: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of a leaf object restricted to strings and integers.

    orjson with sorted keys writes exactly JCS for such values (compact, UTF-8, short
    escapes, lowercase hex for other controls); tests/ledger/test_leaves.py checks it against the
    standard library's encoder on generated objects. It is the hot path of every append.
    """
    _check(obj, "$")
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:  # e.g. a lone surrogate in a string
        raise InvalidInput(f"ledger leaf cannot be encoded: {exc}") from None


def decode(data: bytes) -> dict[str, Any]:
    obj = json.loads(data.decode("utf-8"))
    if not isinstance(obj, dict) or obj.get("v") != VERSION or obj.get("type") not in LEAF_TYPES:
        raise InvalidInput("not an Oversight v1 ledger leaf")
    if canonical(obj) != data:
        raise InvalidInput("ledger leaf bytes are not canonical")
    return obj


@functools.lru_cache(maxsize=256)  # a batch stamps every leaf with the same instant
def instant(moment: datetime) -> str:
    """Timestamps in leaves: UTC, RFC 3339, microseconds, 'Z'.

    Equal instants in different zones compare and hash equal, and format alike, so the
    cache is exact.
    """
    if moment.tzinfo is None:
        raise InvalidInput("ledger timestamps must be timezone-aware")
    # isoformat is several times faster than strftime (purges format four per segment);
    # in UTC it ends "+00:00", which becomes the "Z" of the v1 format.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_instant(text: Any) -> datetime:
    """The datetime of a leaf timestamp written by ``instant``."""
    if type(text) is not str or not text.endswith("Z"):
        raise InvalidInput(f"ledger timestamp {text!r} is not RFC 3339 UTC")
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise InvalidInput(f"ledger timestamp {text!r} is not RFC 3339 UTC") from None


def _clean(value: Any) -> Any:
    """``value`` with every stream credential a string in it could carry (a URL's
    userinfo or secret parameter, a secret ``key=value``) masked: leaves are permanent,
    so the builders are the last line behind the services' own scrubbing (finding 4).
    Only strings holding '@' or '=' can carry one; the rest pass untouched (hot path)."""
    kind = type(value)
    if kind is str:
        return scrub(value) if ("@" in value or "=" in value) else value
    if kind is dict or isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_clean(v) for v in value]
    return value


def _leaf(kind: str, at: datetime, fields: Mapping[str, Any]) -> dict[str, Any]:
    leaf = {"v": VERSION, "type": kind, "at": instant(at)}
    leaf.update({k: _clean(v) for k, v in fields.items() if v is not None})
    return leaf


def registry(
    *, at: datetime, actor: str, action: str, subject: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """A registry change: ``action`` like ``camera.add``; ``changes`` the new values."""
    return _leaf(
        "registry",
        at,
        {"actor": actor, "action": action, "subject": subject, "changes": dict(changes)},
    )


def segment_sealed(
    *,
    at: datetime,
    camera: str,
    seq: int,
    prev_sha256: str,
    start: datetime,
    end: datetime,
    clock_offset_ms: int,
    size: int,
    sha256: str,
    storage_key: str,
    node: str | None = None,
    epoch: int | None = None,
    late: bool = False,
    copy: int = 0,
) -> dict[str, Any]:
    """A sealed segment; ``prev_sha256`` chains each camera's segments ("" for the first).
    ``copy`` 1: the second recording of a redundant camera, chained in the same chain
    (absent for copy 0, as before redundancy existed).

    In a recorder pool, ``node`` and ``epoch`` name the sealer and the lease it sealed
    under, and ``lease`` is ``held``, or ``lost`` when the lease had passed to another
    node by then: late footage, kept (absent, like node and epoch, outside a pool)."""
    pool = {} if node is None else {"node": node, "epoch": epoch, "lease": LOST if late else HELD}
    return _leaf(
        "segment_sealed",
        at,
        {
            "camera": camera,
            "seq": seq,
            "prev_sha256": prev_sha256,
            "start": instant(start),
            "end": instant(end),
            "clock_offset_ms": clock_offset_ms,
            "bytes": size,
            "sha256": sha256,
            "storage_key": storage_key,
            **pool,
            **_copy(copy),
        },
    )


def segment_deleted(
    *, at: datetime, segment: str, sha256: str, reason: str, rule: str
) -> dict[str, Any]:
    return _leaf(
        "segment_deleted",
        at,
        {"segment": segment, "sha256": sha256, "reason": reason, "rule": rule},
    )


def _copy(copy: int) -> dict[str, int]:
    """The ``copy`` field of a redundant camera's second recording; absent for copy 0."""
    return {"copy": copy} if copy else {}


def gap(
    *, at: datetime, camera: str, start: datetime, end: datetime, reason: str, copy: int = 0
) -> dict[str, Any]:
    """No footage of ``camera`` (of its ``copy``, for a redundant camera) in [start, end)."""
    return _leaf(
        "gap",
        at,
        {
            "camera": camera,
            "start": instant(start),
            "end": instant(end),
            "reason": reason,
            **_copy(copy),
        },
    )


def access(
    *,
    at: datetime,
    actors: Sequence[str],
    action: str,
    target: str,
    purpose: str,
    destination: str,
    grant: str,
) -> dict[str, Any]:
    return _leaf(
        "access",
        at,
        {
            "actors": list(actors),
            "action": action,
            "target": target,
            "purpose": purpose,
            "destination": destination,
            "grant": grant,
        },
    )


def retention(
    *, at: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """A retention decision: ``action`` is ``keep.set``, ``mark``, ``hold``, ``release``,
    ``purge`` or ``delete.refused``; ``subject`` what it applies to."""
    return _leaf(
        "retention",
        at,
        {"actor": actor, "action": action, "subject": subject, "details": dict(details)},
    )


def person(
    *, at: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """A change to people: ``action`` like ``user.add``, ``user.disable``, ``role.grant``,
    ``training.record``, ``login``, ``login.failed``; ``subject`` is ``user:ID``.

    Only user ids, roles, sites, dates and counts go in ``details``: never a name, a
    password, its hash, a session token or an identity-document number.
    """
    return _leaf(
        "person",
        at,
        {"actor": actor, "action": action, "subject": subject, "details": dict(details)},
    )


def health(
    *, at: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """A camera alarm: ``action`` is ``alarm.raise``, ``alarm.clear`` or ``alarm.ack``,
    ``subject`` ``alarm:ID``, ``details`` the camera, kind, times and (for an
    acknowledgement) the note; or a tamper reference learned: ``reference.learn`` on
    ``camera:ID`` with the number of keyframes."""
    return _leaf(
        "health",
        at,
        {"actor": actor, "action": action, "subject": subject, "details": dict(details)},
    )


def operations(
    *, at: datetime, actor: str, action: str, subject: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """Maintenance and incident reports (Art. 14(1), 14(4)): ``action`` is
    ``inspection.schedule``, ``inspection.record``, ``procedure.add``, ``repair.record``
    or ``incident.report``; ``subject`` like ``site:ID``, ``camera:ID``, ``incident:ID``.
    Only user ids go in ``details``, never names or identity-document numbers."""
    return _leaf(
        "operations",
        at,
        {"actor": actor, "action": action, "subject": subject, "details": dict(details)},
    )


def clock(*, at: datetime, action: str, subject: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Time as evidence: ``camera.jump`` (``subject`` ``camera:ID``: its timestamps jumped;
    ``details`` the size in ms, the direction and the wall time it was noticed), or the
    recorder host's clock: ``host.sync`` (its source and offset, at start and hourly) and
    ``host.jump`` (``subject`` ``host:NAME``: the wall clock against the monotonic one)."""
    return _leaf("clock", at, {"action": action, "subject": subject, "details": dict(details)})


def handover(
    *,
    at: datetime,
    camera: str,
    from_node: str | None,
    from_epoch: int,
    to_node: str | None,
    to_epoch: int,
    reason: str,
    copy: int = 0,
) -> dict[str, Any]:
    """A change of the node recording ``camera`` in a pool: ``reason`` is ``claim`` (it
    had no owner), ``expiry`` (the owner stopped renewing: a failover), ``drain``,
    ``stop`` or ``rebalance`` (the owner let it go). A release has no ``to_node``.
    ``copy``: which recording of a redundant camera changed hands (absent for 0)."""
    return _leaf(
        "handover",
        at,
        {
            "camera": camera,
            "from_node": from_node,
            "from_epoch": from_epoch,
            "to_node": to_node,
            "to_epoch": to_epoch,
            "reason": reason,
            **_copy(copy),
        },
    )
