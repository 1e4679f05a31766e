"""The one check every interface applies to free text a person types."""

from __future__ import annotations

import pytest

from oversight.domain.text import MAX_TEXT, check_text
from oversight.errors import InvalidInput


def test_text_is_trimmed_and_may_hold_tabs_and_line_breaks() -> None:
    assert check_text("  gate 1\tnorth\r\nsecond line  ", "--note") == (
        "gate 1\tnorth\r\nsecond line"
    )
    assert check_text("", "--note", required=False) == ""
    assert check_text("x" * MAX_TEXT, "--note") == "x" * MAX_TEXT


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        ("   ", {}, "--name must not be empty"),
        ("x" * (MAX_TEXT + 1), {}, f"--name is longer than {MAX_TEXT} characters"),
        ("x" * 501, {"max_chars": 500}, "--name is longer than 500 characters"),
        ("a\x00b", {}, "--name contains a control character"),
        ("a\x1b[31mb", {}, "--name contains a control character"),
        ("a\x7fb", {}, "--name contains a control character"),
    ],
)
def test_empty_long_or_controlled_text_is_refused_naming_the_field(
    value: str, kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text(value, "--name", **kwargs)  # type: ignore[arg-type]
    assert refused.value.message == message
