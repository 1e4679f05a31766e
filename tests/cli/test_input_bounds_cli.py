"""Input bounds on the command line. Row ids and leaf indexes are bounded by what a
database column holds: one past the bound is a usage error (exit 2) naming the
argument, with nothing written, where it used to reach the driver and end in a
traceback; at the bound the command runs and says the object does not exist. Dates and
instants stay a day inside Python's datetime range: past it, a one-line error."""

from __future__ import annotations

import pytest

from oversight.db.models import MAX_ID, MAX_LEAF
from tests.conftest import Env

PAST_ID, PAST_LEAF = str(MAX_ID + 1), str(MAX_LEAF + 1)

COMMANDS = [
    (["segments", "delete", PAST_ID, "--reason", "x"], "segment_id"),
    (["retention", "release", PAST_ID, "--reason", "x"], "hold_id"),
    (["alarms", "show", PAST_ID], "alarm_id"),
    (["alarms", "ack", PAST_ID], "alarm_id"),
    (["access", "show", PAST_ID], "request_id"),
    (["access", "approve", PAST_ID], "request_id"),
    (["access", "revoke", PAST_ID, "--reason", "x"], "grant_id"),
    (["export", "--grant", PAST_ID, "--out", "pkg", "--witness", "w"], "--grant"),
    (["incidents", "show", PAST_ID], "incident_id"),
    (["obstructions", "resolve", PAST_ID, "--date", "2026-01-01"], "obstruction_id"),
    (["ledger", "show", PAST_LEAF], "index"),
    (["ledger", "list", "--since", PAST_LEAF], "--since"),
    (["ledger", "checkpoints", "--since", PAST_LEAF], "--since"),
]


def _refused(env: Env, *args: str) -> str:
    """The output of a command that must fail with exit 2 and write nothing."""
    before = env.counts()
    result = env.fails(*args)
    assert env.counts() == before
    return result.output


@pytest.mark.parametrize(("args", "name"), COMMANDS, ids=[" ".join(a[:2]) for a, _ in COMMANDS])
def test_an_id_past_the_column_range_is_a_usage_error_that_writes_nothing(
    initialised: Env, args: list[str], name: str
) -> None:
    output = _refused(initialised, *args)
    assert f"Invalid value for '{name}'" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["segments", "delete", str(MAX_ID), "--reason", "x"], f"segment {MAX_ID} does not exist"),
        (["ledger", "show", str(MAX_LEAF)], f"the ledger has no leaf {MAX_LEAF}"),
    ],
)
def test_an_id_at_the_bound_reaches_the_database_and_is_not_found(
    initialised: Env, args: list[str], message: str
) -> None:
    output = _refused(initialised, *args)
    assert f"error: {message}" in output


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["retention", "plan", "--at", "9999-12-31T23:59:59Z"], "9999-12-31T23:59:59+00:00"),
        (["segments", "list", "--from", "0001-01-01T00:00:00Z"], "0001-01-01T00:00:00+00:00"),
        (
            [
                "retention",
                "mark",
                "--camera",
                "c",
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "9999-12-31T00:00:00Z",
                "--reason",
                "x",
            ],
            "9999-12-31T00:00:00+00:00",
        ),
        (["compliance", "report", "--at", "9999-12-31"], "9999-12-31"),
    ],
)
def test_a_date_at_the_ends_of_the_calendar_is_a_one_line_error_that_writes_nothing(
    initialised: Env, args: list[str], value: str
) -> None:
    # 9999-12-31T23:59:59Z has no local date east of UTC: it ended in a traceback.
    output = _refused(initialised, *args)
    assert output.endswith(f"{value} is out of range (from 0001-01-02 to 9999-12-30)\n")
    assert output.count("\n") == 1 and output.startswith("error: ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\x01b", "--name contains a control character"),
        ("x" * 501, "--name is longer than 500 characters"),  # the API's bound, now everywhere
    ],
)
def test_a_name_with_a_control_character_or_too_long_is_refused_and_nothing_written(
    initialised: Env, name: str, message: str
) -> None:
    output = _refused(initialised, "orgs", "add", "--id", "o1", "--name", name, "--kind", "owner")
    assert output == f"error: {message}\n"
