"""Shared pieces of the REST API: response models the service records do not already
give, and the query-parameter checks every area needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from oversight.clock import day_in_range, instant_in_range
from oversight.domain.people import Person
from oversight.domain.plain_reasons import REASONS
from oversight.errors import InvalidInput

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


_NOT_A_NUMBER = (
    "dates and instants are ISO 8601 text (e.g. 2026-01-01 or 2026-01-01T00:00:00+08:00)"
)


def _not_a_number(value: object) -> object:
    """pydantic reads a number as Unix seconds; our schema says ISO 8601 text, so a
    number is refused (422) rather than taken for a day or an instant in 1970."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(_NOT_A_NUMBER)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError(_NOT_A_NUMBER)
    return value


Instant = Annotated[datetime, BeforeValidator(_not_a_number)]
"""A datetime in a query or body: ISO 8601 text only (``aware`` then requires its zone)."""


def _api_day(value: date) -> date:
    try:
        return day_in_range(value, "date")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


Day = Annotated[date, BeforeValidator(_not_a_number), AfterValidator(_api_day)]
"""A date in a query or body: ISO 8601 text (YYYY-MM-DD) only."""


def aware(value: datetime | None, name: str) -> datetime | None:
    """Instants in queries must say their time zone: a naive one is ambiguous."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00+08:00)")
    return instant_in_range(value, name)


def required_aware(value: datetime, name: str) -> datetime:
    checked = aware(value, name)
    assert checked is not None
    return checked


class ErrorOut(BaseModel):
    """Every refusal: a one-line message, and the rule and article when a rule refused."""

    error: str
    rule: str | None
    article: str | None


# Documented on every API router, so clients (and the schema fuzzer) know the shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Invalid input"},
    401: {"model": ErrorOut, "description": "Not logged in"},
    403: {"model": ErrorOut, "description": "The caller's roles do not allow this"},
    404: {"model": ErrorOut, "description": "No such object"},
    405: {"model": ErrorOut, "description": "Method not allowed"},
    409: {"model": ErrorOut, "description": "Already exists"},
    422: {"model": ErrorOut, "description": "Refused by a rule (with article) or malformed"},
}


# Routes that check a password through the login limiter (a login, a witness's password).
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "Too many failed logins: retry after Retry-After"},
}


def non_json(media_type: str) -> dict[int | str, dict[str, Any]]:
    """Responses of a route whose success is ``media_type`` (HTML, CSV, text): its
    errors are still JSON, and the schema must say so."""
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    out: dict[int | str, dict[str, Any]] = {
        200: {"content": {media_type: {"schema": {"type": "string"}}}}
    }
    for status, doc in ERRORS.items():
        # No "model" here: FastAPI would file it under the route's own media type too.
        out[status] = {
            "description": doc["description"],
            "content": {"application/json": {"schema": ref}},
        }
    return out


class Done(BaseModel):
    """An action that returns nothing but its confirmation."""

    ok: bool = True
    message: str


class Span(BaseModel):
    start: datetime
    end: datetime


class CoverageOut(BaseModel):
    camera: str
    start: datetime
    end: datetime
    segments: int
    recorded_seconds: float
    fraction: float
    recorded: list[Span]
    gaps: list[Span]
    important: list[Span]
    held: list[Span]


# ffmpeg's and the recorder's words (issue 22, item 9): a plain reason for every reader,
# the raw text only for those holding recordings.diagnostics (services/diagnostics.py).
_PLAIN = "The plain reason, one of: " + ", ".join(REASONS) + " (docs/api.md says what each means)"
_RAW = (
    "What the recorder or ffmpeg said (credentials scrubbed); null unless the caller holds "
    "recordings.diagnostics for this camera (admins, operators)"
)
PlainReason = Annotated[str, Field(description=_PLAIN, json_schema_extra={"enum": list(REASONS)})]


class GapOut(BaseModel):
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: PlainReason
    reason_raw: str | None = Field(description=_RAW)
    leaf_index: int
    copy_: int = Field(alias="copy", description="Which recording of a redundant camera")


class StatusOut(BaseModel):
    camera: str
    state: str
    since: datetime | None
    last_segment_at: datetime | None
    last_error: PlainReason | None
    last_error_raw: str | None = Field(description=_RAW)
    updated_at: datetime | None


class Penalty(BaseModel):
    min_cny: int
    max_cny: int
    article: str | None


class AlsoCited(BaseModel):
    pack: str
    rule: str
    article: str


class FindingOut(BaseModel):
    rule: str
    article: str
    pack: str
    subject: str
    message: str
    severity: str
    since: date | None
    deadline: date | None
    penalty: Penalty | None
    also: list[AlsoCited]


class ComplianceOut(BaseModel):
    pack: str
    packs: list[str]
    at: date
    findings: list[FindingOut]


class TrainingOut(BaseModel):
    id: int | None
    user_id: str
    trained_on: date
    valid_until: date
    topics: list[str]
    recorded_by: str


class PersonOut(BaseModel):
    """A person as the API shows them: the identity document only ever masked."""

    id: str
    name: str
    roles: list[str]
    sites: list[str]
    id_doc_masked: str | None
    disabled: bool
    trainings: list[TrainingOut] = Field(default_factory=list)

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls(
            id=p.id,
            name=p.name,
            roles=list(p.roles),
            sites=list(p.sites),
            id_doc_masked=p.masked_id_doc,
            disabled=p.disabled,
            trainings=[
                TrainingOut(
                    id=t.id,
                    user_id=t.user_id,
                    trained_on=t.trained_on,
                    valid_until=t.valid_until,
                    topics=list(t.topics),
                    recorded_by=t.recorded_by,
                )
                for t in p.trainings
            ],
        )


JSONObject = dict[str, Any]
