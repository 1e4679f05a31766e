"""Free text a person types (names, reasons, notes, purposes): trimmed, required unless
said otherwise, bounded, and free of control characters, alike in every interface.
Control characters have no place in a register or a printed form, and some (NUL, ESC)
break the tools that read them."""

from __future__ import annotations

import re

from oversight.errors import InvalidInput

MAX_TEXT = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab and line breaks


def check_text(value: str, what: str, *, required: bool = True, max_chars: int = MAX_TEXT) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{what} must not be empty")
    if len(value) > max_chars:
        raise InvalidInput(f"{what} is longer than {max_chars} characters")
    if _CONTROL.search(value):
        raise InvalidInput(f"{what} contains a control character")
    return value
