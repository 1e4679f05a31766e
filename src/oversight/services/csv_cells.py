"""One defuser for every CSV the system writes (API, console, CLI): a spreadsheet runs a
cell that starts with ``= + - @`` (or a tab or carriage return before one) as a formula,
so such a cell gets a leading apostrophe, which spreadsheets show as text (OWASP, "CSV
Injection"). Pure."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """``value`` as a CSV cell: lists joined with ``;``, None empty, formulas defused."""
    if value is None:
        text = ""
    elif isinstance(value, list | tuple):
        text = ";".join(str(v) for v in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
