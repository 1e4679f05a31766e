"""Every setting is documented in docs/settings.md."""

from __future__ import annotations

from pathlib import Path

from oversight.config import Settings

DOC = Path(__file__).parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"`OVERSIGHT_{n.upper()}`" not in text]
    assert missing == []
