"""Console text in Chinese and English.

Each file ``web/locales/<area>.yaml`` maps a key to ``{zh: ..., en: ...}``; the files
are merged at start-up (a key defined twice is an error, and every key must have both
languages: ``tests/web/test_i18n.py``). The language is the operator's choice
(``?lang=`` remembered in a cookie), else the browser's ``Accept-Language``, else the
language of the rule pack's jurisdiction.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh", "en")
COOKIE = "ov_lang"


@functools.cache
def catalog() -> Mapping[str, Mapping[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("oversight.web") / "locales"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"locale key {key!r} is defined twice (in {entry.name})")
            if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
                raise ValueError(f"locale key {key!r} in {entry.name} needs exactly zh and en")
            merged[key] = {lang: str(texts[lang]) for lang in LANGUAGES}
    return merged


def translate(lang: str, key: str, **values: Any) -> str:
    texts = catalog().get(key)
    text = texts[lang] if texts else key
    return text.format(**values) if values else text


def choose(query: str | None, cookie: str | None, accept: str, default: str) -> str:
    for wanted in (query, cookie):
        if wanted in LANGUAGES:
            return wanted
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else "en"
