"""Keep stream credentials out of everything the recorder logs or stores.

ffmpeg echoes its input URL in some error messages; every line of its output that
Oversight keeps passes through :func:`scrub` first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# scheme://user:password@  ->  scheme://user:***@
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@/]*@")
# Shorter secrets are not replaced verbatim: they would garble ordinary words.
_MIN_SECRET = 4


def scrub(text: str, url: str | None = None) -> str:
    """``text`` with any URL password, and the password of ``url`` wherever it appears, masked."""
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            for secret in {password, unquote(password)}:
                if len(secret) >= _MIN_SECRET:
                    text = text.replace(secret, "***")
    return _USERINFO.sub(r"\1:***@", text)
