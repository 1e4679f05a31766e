"""Console text: every key a template or the navigation asks for exists in the catalog
in Chinese and English, and every console page renders in both languages without a
raw key showing through."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import get_args

import pytest

from oversight.domain import access
from oversight.domain.filing import Status
from oversight.domain.model import FILING_KINDS, OBSTRUCTION_CAUSES, ORG_KINDS
from oversight.rules.schema import Severity
from oversight.services import recording, registry, retention, verify
from oversight.web import i18n
from oversight.web.console.dashboard import TIMELINE_KINDS
from oversight.web.nav import NAV
from tests.actors import HOST
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web

# Keys built in a template as "prefix." ~ value, with every value they can take.
DYNAMIC: dict[str, tuple[str, ...]] = {
    "dash.state.": (*recording.STATES, "never_recorded"),
    "reg.kind.": ORG_KINDS,
    "reg.cause.": OBSTRUCTION_CAUSES,
    "filing.kind.": FILING_KINDS,
    "filing.status.": get_args(Status),
    "comp.sev.": get_args(Severity),
    "access.kind.": access.KINDS,
    "access.status.": ("pending", "approved", "denied"),  # services.access sets these
}
KEY = re.compile(r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.?)["']""")
PAGES = (
    "/",
    "/registry",
    "/filing",
    "/filing?all=1",
    "/recordings",
    "/recordings/cam1",
    "/retention",
    "/audit",
    "/compliance",
    "/ledger",
)


def _templates() -> dict[str, str]:
    folder = resources.files("oversight.web") / "templates" / "console"
    return {
        e.name: e.read_text(encoding="utf-8") for e in folder.iterdir() if e.name.endswith(".html")
    }


def used_keys() -> set[str]:
    """Every key in a ``t(...)`` call of any console template, prefixes expanded."""
    keys: set[str] = set()
    for text in _templates().values():
        for call in re.finditer(r"\bt\(([^()]*)\)", text):
            for literal in KEY.findall(call.group(1)):
                if "." not in literal:
                    continue  # a plain word, e.g. a keyword argument's value
                if literal.endswith(".") and literal in DYNAMIC:
                    keys |= {literal + v for v in DYNAMIC[literal]}
                elif literal.endswith("."):
                    # A prefix this test does not know the values of: at least one
                    # key must carry it (list its values in DYNAMIC to check them all).
                    assert any(k.startswith(literal) for k in i18n.catalog()), literal
                else:
                    keys.add(literal)
    keys |= {item.label for item in NAV}
    keys |= {f"timeline.{kind}" for kind in TIMELINE_KINDS}
    return keys


def test_templates_use_keys() -> None:
    keys = used_keys()
    assert {"nav.dashboard", "dash.state.recording", "reg.cause.advert", "comp.sev.info"} <= keys


def test_every_key_used_exists_in_both_languages() -> None:
    catalog = i18n.catalog()
    missing = sorted(k for k in used_keys() if k not in catalog)
    assert missing == []
    for key in used_keys():
        assert catalog[key]["zh"].strip() and catalog[key]["en"].strip(), key


def _seed(web: Web, tmp: Path) -> None:
    """Enough state that every table on every page has rows to translate."""
    sealed = sealed_camera(web.system, tmp, count=3)
    system = web.system
    now = system.clock.now()
    recording.set_status(system, "cam1", state="recording", since=sealed[0].start)
    recording.record_gap(
        system,
        camera="cam1",
        start=sealed[-1].end,
        end=sealed[-1].end + timedelta(minutes=1),
        reason="timeout",
    )
    registry.report_obstruction(
        system, HOST, camera_id="cam1", reported_on=system.packs.local_date(now), cause="tree"
    )
    retention.mark_important(system, HOST, "cam1", now - timedelta(hours=3), now, "incident")
    retention.place_hold(system, HOST, "cam1", now - timedelta(hours=3), now, "case")
    with system.sessions.begin() as session:
        system.ledger.publish(session)
    verify.record_run(system, HOST, verify.verify(system), now)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(web: Web, tmp_path: Path, lang: str) -> None:
    _seed(web, tmp_path)
    client = web.console("boss")
    catalog = i18n.catalog()
    prefixes = "|".join(sorted({k.split(".")[0] for k in catalog}))
    raw_key = re.compile(rf"\b(?:{prefixes})\.[a-z_]+(?:\.[a-z_]+)?\b")
    for url in PAGES:
        joiner = "&" if "?" in url else "?"
        reply = client.get(f"{url}{joiner}lang={lang}")
        assert reply.status_code == 200, (url, reply.text[:300])
        assert f'<html lang="{lang}">' in reply.text, url
        assert catalog["nav.dashboard"][lang] in reply.text, url
        visible = re.sub(r"<[^>]*>", " ", reply.text)
        leaked = raw_key.findall(visible)  # t() shows a missing key as itself
        assert leaked == [], (url, leaked)
