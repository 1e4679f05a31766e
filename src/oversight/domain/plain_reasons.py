"""ffmpeg's own words, and the recorder's, turned into a plain reason (issue 22, item 9).

The recorder keeps what ffmpeg said (``Last error``, a gap's reason, both stored and
credential-scrubbed) because an operator diagnosing a camera needs it. Everyone else
reads one of a few plain reasons: :func:`plain_reason` maps the raw text to one of
:data:`REASONS` (the console translates it: ``reason.<key>`` in the locales). The first
matching row wins, so the specific causes (a refused login, a missing path) come before
the generic ones (a network error, an exit). Pure: text in, key out.
"""

from __future__ import annotations

import re

# (key, pattern) in order of precedence; patterns are matched case-insensitively.
_RULES: tuple[tuple[str, str], ...] = (
    ("recorder_down", r"recorder was not running"),
    ("disk_full", r"disk[ _]full|No space left on device"),
    ("auth_refused", r"\b401\b|\b403\b|Unauthorized|Forbidden|authenticat"),
    ("not_found", r"\b404\b|Not Found|No such file or directory"),
    (
        "unreachable",
        r"Connection refused|No route to host|Network is unreachable|"
        r"Failed to resolve hostname|Name or service not known|Connection timed out|"
        r"Operation timed out|timed out|timeout|Connection reset|Input/output error",
    ),
    ("stalled", r"stalled|no segment for"),
    ("bad_stream", r"Invalid data found|could not find codec|unsupported|not a video"),
    ("unsealable", r"quarantined|cannot seal|unsealable"),
    ("handed_over", r"handed over|another node|lease"),
    ("stopped", r"until stop|recorder stopped|stopped by|\(until "),
    ("stream_ended", r"stream ended|End of file|exited with code 0"),
    ("ffmpeg_failed", r"ffmpeg exited|ffmpeg"),
)
_COMPILED = tuple((key, re.compile(pattern, re.IGNORECASE)) for key, pattern in _RULES)

REASONS: tuple[str, ...] = (*(key for key, _ in _RULES), "other")


def plain_reason(text: str | None) -> str | None:
    """The plain reason of a recorder or ffmpeg message (a key of :data:`REASONS`), or
    None for no message."""
    if not text or not text.strip():
        return None
    for key, pattern in _COMPILED:
        if pattern.search(text):
            return key
    return "other"
