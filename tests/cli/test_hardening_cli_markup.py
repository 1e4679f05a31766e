"""Findings 8 and 11 of the security review (issue 18): user text in the CLI's rich output
is printed literally (no markup, no emoji codes, no crash), and the register's CSV from
`audit log --csv` defuses spreadsheet formulas like the API and console downloads do."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from oversight.cli import common
from oversight.services import people
from oversight.services.csv_cells import FORMULA_START, spreadsheet_cell
from tests.cli.test_registry_cli import TODAY
from tests.cli.test_users_cli import login, run
from tests.conftest import Env

ADMIN_PW = "admin password 1"
# A closing tag with nothing open (crashed rich), a hidden link, invisible text, an emoji code.
MARKUP = "[/] [link=http://x]a[/link] [white on white]hidden[/] :red_circle:"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A wide console, so that table cells are not wrapped and can be compared whole."""
    monkeypatch.setattr(common.console, "_width", 400)
    monkeypatch.setattr(common.err_console, "_width", 400)
    yield


def _tagged(tag: str) -> str:
    return f"{tag} {MARKUP}"


def _deploy(env: Env, tmp_path: Path, purpose: str = "") -> None:
    """Every free-text field a user can fill, through the CLI: org and site names, an
    address, a stream URL, an obstruction cause, a user's name, an alarm's detail, an
    access request's requester, organisation, purpose and destination."""
    run(
        env,
        *("init", "--admin-id", "boss", "--admin-password-stdin", "--admin-id-doc", "BOSS0001"),
        input=ADMIN_PW + "\n",
    )
    env.ok("orgs", "add", "--id", "acme", "--name", _tagged("org"), "--kind", "owner")
    env.ok(
        *("sites", "add", "--id", "s1", "--name", _tagged("site"), "--category", "school"),
        *("--owner", "acme", "--address", _tagged("address")),
    )
    env.ok(
        *("cameras", "add", "--id", "cam1", "--site", "s1", "--placement", "general"),
        *("--coverage", "entrance", "--stream", "rtsp://127.0.0.1:8554/[/]cam1"),
        *("--commissioned", TODAY.isoformat()),
    )
    env.ok(
        *("obstructions", "report", "--camera", "cam1", "--cause", "other"),
        *("--date", TODAY.isoformat(), "--responsible", _tagged("responsible")),
    )
    login(env, "boss", ADMIN_PW)
    run(
        env,
        *("users", "add", "--id", "li", "--name", _tagged("user"), "--id-doc", "LI000001"),
        "--password-stdin",
        input="user password 12\n",
    )
    env.ok(
        *("training", "record", "--user", "li", "--date", (TODAY - timedelta(days=3)).isoformat()),
        *("--valid-until", date(TODAY.year + 1, 1, 1).isoformat(), "--topics", "skills"),
    )
    env.ok("alarms", "raise", "--camera", "cam1", "--kind", "covered", "--detail", _tagged("alarm"))
    docs = []
    for kind in ("work_id", "identity_document", "unit_letter", "own_agency_head"):
        path = tmp_path / f"{kind}.txt"
        path.write_text(f"scan of {kind}\n")
        docs += ["--document", f"{kind}={path}"]
    env.ok(
        *("access", "request", "--kind", "view", "--cameras", "cam1"),
        *("--from", "2024-05-01T08:00:00Z", "--to", "2024-05-01T08:01:00Z"),
        *("--requester-name", _tagged("requester"), "--work-id", "PS-1", "--id-doc", "COP00001"),
        *("--org", _tagged("police org"), "--org-class", "police"),
        *("--purpose", purpose or _tagged("purpose"), "--destination", _tagged("destination")),
        *docs,
    )


def _literal(output: str, *tags: str) -> None:
    for tag in tags:
        assert _tagged(tag) in output, f"{tag!r} not printed literally:\n{output}"
    assert "\x1b]8;" not in output  # no hyperlink escape planted
    assert "\U0001f534" not in output  # :red_circle: stays a code


@pytest.mark.parametrize("database_url", [None])
def test_user_text_prints_literally_in_every_listing(env: Env, tmp_path: Path) -> None:
    _deploy(env, tmp_path)
    _literal(env.ok("audit", "log").output, "purpose", "destination")
    _literal(env.ok("access", "list").output, "police org")
    _literal(env.ok("access", "show", "1").output, "purpose", "requester", "destination")
    _literal(env.ok("orgs", "list").output, "org")
    _literal(env.ok("orgs", "show", "acme").output, "org")
    _literal(env.ok("sites", "list").output, "site", "address")
    _literal(env.ok("sites", "show", "s1").output, "site", "address")
    assert "rtsp://127.0.0.1:8554/[/]cam1" in env.ok("cameras", "list").output
    assert "rtsp://127.0.0.1:8554/[/]cam1" in env.ok("cameras", "show", "cam1").output
    _literal(env.ok("obstructions", "list").output, "responsible")
    _literal(env.ok("users", "list").output, "user")
    _literal(env.ok("alarms", "list").output, "alarm")
    _literal(env.ok("alarms", "show", "1").output, "alarm")


@pytest.mark.parametrize("database_url", [None])
def test_code_styled_labels_still_render(env: Env, tmp_path: Path) -> None:
    """The CLI's own styling is not printed as markup text."""
    _deploy(env, tmp_path)
    shown = env.ok("orgs", "show", "acme").output
    assert "[bold]" not in shown and "name: org " in shown
    assert "[bold]" not in env.ok("whoami").output


# ---- finding 11: CSV formulas ---------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","click")', "+1+2", "-1+2", "@SUM(A1)"]


@pytest.mark.parametrize("database_url", [None])
@pytest.mark.parametrize("formula", FORMULAS)
def test_audit_log_csv_defuses_formulas(env: Env, tmp_path: Path, formula: str) -> None:
    _deploy(env, tmp_path, purpose=formula)
    out = env.ok("audit", "log", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    [request] = [r for r in rows if r["action"] == "request"]
    assert request["purpose"] == "'" + formula
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_START), f"a live formula: {value!r}"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (["=a", "b"], "'=a;b"),
        (7, "7"),
        (None, ""),
    ],
)
def test_one_defusing_function(value: object, cell: str) -> None:
    assert spreadsheet_cell(value) == cell


def test_no_cli_module_prints_through_a_console_of_its_own() -> None:
    """The guard for new commands: the CLI's consoles read no markup, and no module makes
    another console or writes markup strings (styling is built from ``Text``)."""
    assert not common.console._markup and not common.err_console._markup
    assert not common.console._emoji and not common.err_console._emoji
    root = Path(common.__file__).parent
    for path in sorted(root.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != "common.py":
            assert "Console(" not in text, f"{path.name} builds its own rich Console"
        for style in ("[bold", "[red", "[green", "[yellow", "[dim", "[link", "[/"):
            assert f'"{style}' not in text and f'f"{style}' not in text, (path.name, style)
