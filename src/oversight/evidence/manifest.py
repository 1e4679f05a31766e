"""The evidence package manifest: schema v1, its canonical bytes, and its signature text.

Canonical bytes (RFC 8785, JCS) for the values a manifest holds: strings, integers
(|n| < 2^53), booleans, null, lists and objects; no floats. For these JCS is: object
keys sorted by their UTF-16 code units, no whitespace, UTF-8, the minimal string
escapes of ECMAScript ``JSON.stringify`` (which Python's encoder matches when it
does not escape non-ASCII). ``manifest.json`` must be exactly these bytes.

The signature (``manifest.sig``) is a C2SP signed note by the ledger's key over::

    oversight.evidence.manifest/v1
    sha256 <hex SHA-256 of manifest.json>

Its second line is never a decimal number, so no manifest signature can be read as a
tlog-checkpoint (whose second line is the tree size): the ledger key signs both, and
the two kinds of note stay apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from oversight.errors import InvalidInput

FORMAT = "oversight-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CHECKPOINT = "checkpoint.txt"
VERIFIER_KEY = "verifier-key.txt"
README = "README.txt"
CLIPS_DIR = "clips"
PROOFS_DIR = "proofs"
SEGMENTS_DIR = "segments"
SIG_HEADER = "oversight.evidence.manifest/v1"
CUT_INWARD = "keyframes-inward"  # clips.cut: cut at keyframes inside the range asked for

_MAX_INT = 2**53 - 1
_SIG_RE = re.compile(re.escape(SIG_HEADER) + r"\nsha256 ([0-9a-f]{64})\n")

Text = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Instant = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}"
ClipFile = Annotated[str, StringConstraints(pattern=rf"^{CLIPS_DIR}/{_NAME}$")]
ProofFile = Annotated[
    str, StringConstraints(pattern=rf"^{PROOFS_DIR}/(0|[1-9][0-9]{{0,18}})\.tlog-proof$")
]
SegmentFile = Annotated[str, StringConstraints(pattern=rf"^{SEGMENTS_DIR}/{_NAME}$")]
Count = Annotated[int, Field(ge=0, le=_MAX_INT)]
Positive = Annotated[int, Field(ge=1, le=_MAX_INT)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Requester(_Model):
    """Who asked: name, organisation and its class. Never identity-document numbers."""

    name: Text
    organisation: Text
    org_class: Text


class Scope(_Model):
    cameras: Annotated[list[Text], Field(min_length=1)]
    start: Instant
    end: Instant


class Range(_Model):
    start: Instant
    end: Instant


class Piece(_Model):
    """What of one sealed segment a clip holds: the wall times of its first sample and
    of the end of its last, and where it begins in the clip (microseconds after the
    clip's first sample). Clip time t of this piece is wall time start + (t - offset)."""

    source: Text  # the segment's storage key
    start: Instant
    end: Instant
    offset_us: Count


class Clip(_Model):
    """``start``/``end``: what the clip holds (its first sample, the end of its last);
    ``requested``: the range asked for; ``cut``: how it was cut to lie inside it.
    ``requested``, ``cut`` and ``pieces`` were added by issue 18 (finding 2); packages
    written before have none of them."""

    file: ClipFile
    sha256: Sha256
    bytes: Positive
    camera: Text
    start: Instant
    end: Instant
    watermark: bool
    masks: bool
    source_segments: Annotated[list[Text], Field(min_length=1)]
    requested: Range | None = None
    cut: Literal["keyframes-inward"] | None = None
    pieces: Annotated[list[Piece], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _inside(self) -> Clip:
        # Instants share one fixed-width format, so text order is time order.
        if not self.start < self.end:
            raise ValueError("the clip ends before it starts")
        asked = self.requested
        if asked is not None and not asked.start <= self.start < self.end <= asked.end:
            raise ValueError("the clip holds footage outside the range it was cut from")
        offset = -1
        for piece in self.pieces or []:
            if piece.source not in self.source_segments:
                raise ValueError(f"piece of {piece.source}, which is not a source of the clip")
            if not self.start <= piece.start < piece.end <= self.end:
                raise ValueError(f"the piece of {piece.source} lies outside the clip")
            if piece.offset_us <= offset:
                raise ValueError("the pieces are not in clip time order")
            offset = piece.offset_us
        return self


class Source(_Model):
    """A sealed segment a clip was cut from, with its inclusion proof."""

    camera: Text
    seq: Positive
    storage_key: Text
    sha256: Sha256
    bytes: Positive
    start: Instant
    end: Instant
    leaf_index: Count
    proof: ProofFile
    file: SegmentFile | None  # the original segment, when the package carries it


class Audit(_Model):
    """An ``access`` leaf recording this release, with its inclusion proof."""

    leaf_index: Count
    proof: ProofFile


class Readme(_Model):
    file: Literal["README.txt"]
    sha256: Sha256
    bytes: Positive


class LedgerRef(_Model):
    origin: Text
    tree_size: Positive
    root_hash: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{43}=$")]
    checkpoint: Literal["checkpoint.txt"]
    verifier_key: Text
    verifier_key_file: Literal["verifier-key.txt"]


class Manifest(_Model):
    format: Literal["oversight-evidence/1"]
    created_at: Instant
    released_by: Text
    request: Text
    grant: Text
    kind: Text
    purpose: Text
    destination: Text
    requester: Requester
    executed_by: Annotated[list[Text], Field(min_length=1)]
    scope: Scope
    clips: Annotated[list[Clip], Field(min_length=1)]
    source_segments: Annotated[list[Source], Field(min_length=1)]
    audit: list[Audit]
    readme: Readme
    ledger: LedgerRef


# ---- canonical bytes ----------------------------------------------------------------


def _encode(value: Any, path: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        if -_MAX_INT <= value <= _MAX_INT:
            return str(value)
        raise InvalidInput(f"{path}: integer out of the I-JSON range")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = []
        for key in value:
            if not isinstance(key, str):
                raise InvalidInput(f"{path}: object keys must be strings")
        for key in sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass")):
            items.append(
                json.dumps(key, ensure_ascii=False) + ":" + _encode(value[key], f"{path}.{key}")
            )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v, f"{path}[{i}]") for i, v in enumerate(value)) + "]"
    raise InvalidInput(f"{path}: {type(value).__name__} is not allowed (no floats)")


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (strings, integers, booleans, null, lists, objects)."""
    try:
        return _encode(value, "$").encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("$: a string holds a lone surrogate") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidInput(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def load(data: bytes) -> Manifest:
    """Parse manifest bytes: UTF-8 JSON, canonical, schema v1. InvalidInput says why not."""
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise InvalidInput("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg} at byte {exc.pos}") from None
    if canonical(obj) != data:
        raise InvalidInput("not in canonical form (RFC 8785: sorted keys, no whitespace)")
    return validate(obj)


def validate(obj: Any) -> Manifest:
    try:
        return Manifest.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidInput(f"{where}: {first['msg']}{more}") from None


def dump(manifest: Manifest) -> bytes:
    # Unset optional keys (the clip fields older packages lack) stay out: same bytes.
    return canonical(manifest.model_dump(mode="python", exclude_unset=True))


# ---- the signature text -------------------------------------------------------------


def signature_body(manifest_sha256: str) -> str:
    """The note text that ``manifest.sig`` signs."""
    return f"{SIG_HEADER}\nsha256 {manifest_sha256}\n"


def signed_sha256(text: str) -> str:
    """The manifest SHA-256 a verified signature note text names; InvalidInput if none."""
    match = _SIG_RE.fullmatch(text)
    if match is None:
        raise InvalidInput(f"the signed text is not an {SIG_HEADER} statement")
    return match.group(1)
