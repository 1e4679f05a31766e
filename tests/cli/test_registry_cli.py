"""Registry commands end to end through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Env

# "Today" as the rule packs see it: the local date in China's legal time zone.
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def seed(env: Env, *, category: str = "school", owner_kind: str = "owner") -> None:
    env.ok("orgs", "add", "--id", "acme", "--name", "Acme School", "--kind", owner_kind)
    env.ok(
        "orgs",
        "add",
        "--id",
        "inst",
        "--name",
        "SafeInstall",
        "--kind",
        "installer",
        "--qualification",
        "XJ-AF-001",
        "--qualification-expires",
        "2030-12-31",
    )
    env.ok(
        "sites",
        "add",
        "--id",
        "s1",
        "--name",
        "No. 1 School",
        "--category",
        category,
        "--owner",
        "acme",
        "--address",
        "1 Road",
    )


def add_camera(
    env: Env,
    cam: str,
    *,
    placement: str = "general",
    coverage: str = "entrance",
    commissioned: date = TODAY,
    site: str = "s1",
) -> None:
    env.ok(
        "cameras",
        "add",
        "--id",
        cam,
        "--site",
        site,
        "--placement",
        placement,
        "--coverage",
        coverage,
        "--stream",
        f"rtsp://admin:s3cret@127.0.0.1:8554/{cam}",
        "--commissioned",
        commissioned.isoformat(),
        "--installer",
        "inst",
    )


def test_init_is_idempotent(env: Env) -> None:
    first = env.ok("init")
    assert "Initialised" in first.output
    second = env.ok("init")
    assert "up to date" in second.output
    assert set(env.counts()) >= {"organisations", "sites", "cameras", "filings"}


def test_commands_refuse_an_uninitialised_database(env: Env) -> None:
    result = env.fails("orgs", "list")
    assert "oversight init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_data_dir_option_overrides_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Embedded SQLite only: --data-dir chooses where the embedded database lives.
    monkeypatch.delenv("OVERSIGHT_DATABASE_URL", raising=False)
    monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(tmp_path / "default"))
    env = Env(tmp_path / "default", None, monkeypatch)
    other = tmp_path / "elsewhere"
    env.ok("init", "--data-dir", str(other))
    assert (other / "oversight.db").exists()
    env.ok("--data-dir", str(other), "orgs", "add", "--id", "o", "--name", "O", "--kind", "owner")
    listed = json.loads(env.ok("orgs", "list", "--json", "--data-dir", str(other)).stdout)
    assert [o["id"] for o in listed] == ["o"]
    assert not env.data_dir.exists()


def test_register_and_list(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1")
    cams = json.loads(env.ok("cameras", "list", "--json").stdout)
    assert [c["id"] for c in cams] == ["cam1"]
    assert cams[0]["stream"] == "rtsp://***@127.0.0.1:8554/cam1"
    shown = env.ok("cameras", "show", "cam1").stdout
    assert "s3cret" not in shown
    assert "s3cret" not in env.ok("cameras", "list").stdout
    site = json.loads(env.ok("sites", "show", "s1", "--json").stdout)
    assert site["category"] == "school" and site["cameras"][0]["id"] == "cam1"
    orgs = json.loads(env.ok("orgs", "list", "--json").stdout)
    assert {o["id"]: o["kind"] for o in orgs} == {"acme": "owner", "inst": "installer"}


def test_prohibited_placement_is_refused_with_the_article(initialised: Env) -> None:
    env = initialised
    seed(env)
    before = env.counts()
    result = env.fails(
        "cameras",
        "add",
        "--id",
        "wc",
        "--site",
        "s1",
        "--placement",
        "public_toilet",
        "--coverage",
        "key_part",
        "--stream",
        "rtsp://127.0.0.1/wc",
        "--commissioned",
        TODAY.isoformat(),
    )
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "public_toilet" in line and "Art. 8(2)" in line
    assert env.counts() == before


def test_non_police_owner_may_not_install_in_a_police_managed_site(initialised: Env) -> None:
    env = initialised
    seed(env, category="square")
    before = env.counts()
    result = env.fails(
        "cameras",
        "add",
        "--id",
        "sq1",
        "--site",
        "s1",
        "--placement",
        "general",
        "--coverage",
        "entrance",
        "--stream",
        "rtsp://127.0.0.1/sq1",
        "--commissioned",
        TODAY.isoformat(),
    )
    assert "Art. 8 para 2" in result.stderr
    assert env.counts() == before


def test_police_owner_may_install_in_a_square(initialised: Env) -> None:
    env = initialised
    seed(env, category="square", owner_kind="police")
    add_camera(env, "sq1")
    assert len(json.loads(env.ok("cameras", "list", "--json").stdout)) == 1


BAD_CAMERAS = [
    (["--commissioned", "2026-13-01"], "not an ISO 8601 date"),
    (["--commissioned", "yesterday"], "not an ISO 8601 date"),
    (["--placement", "bathroom_ceiling"], "unknown placement"),
    (["--coverage", "roof"], "unknown coverage point"),
    (["--site", "nosuch"], "site 'nosuch' does not exist"),
    (["--installer", "ghost"], "organisation 'ghost' does not exist"),
    (["--installer", "acme"], "not an installer"),
    (["--stream", "ftp://127.0.0.1/x"], "--stream must be"),
    (["--stream", "not a url"], "--stream must be"),
    (["--commissioned", (TODAY + timedelta(days=3)).isoformat()], "in the future"),
    (["--masks", "[[[0,0],[1,0]]]"], "at least 3 points"),
    (["--masks", "[[[0,0],[2,0],[0,1]]]"], "0 <= x, y <= 1"),
    (["--masks", "{not json"], "not valid JSON"),
    (["--id", "bad id!"], "camera id 'bad id!' is invalid"),
]


@pytest.mark.parametrize(("override", "message"), BAD_CAMERAS)
def test_bad_camera_input_is_one_line_exit_2_and_writes_nothing(
    initialised: Env, override: list[str], message: str
) -> None:
    env = initialised
    seed(env)
    args = {
        "--id": "c9",
        "--site": "s1",
        "--placement": "general",
        "--coverage": "entrance",
        "--stream": "rtsp://127.0.0.1/c9",
        "--commissioned": TODAY.isoformat(),
    }
    args.update(dict(zip(override[::2], override[1::2], strict=True)))
    before = env.counts()
    result = env.fails("cameras", "add", *[x for kv in args.items() for x in kv])
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert env.counts() == before


def test_duplicate_ids_are_refused(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1")
    before = env.counts()
    assert (
        "already exists"
        in env.fails("orgs", "add", "--id", "acme", "--name", "Again", "--kind", "owner").stderr
    )
    assert (
        "already exists"
        in env.fails(
            "sites", "add", "--id", "s1", "--name", "x", "--category", "school", "--owner", "acme"
        ).stderr
    )
    assert (
        "already exists"
        in env.fails(
            "cameras",
            "add",
            "--id",
            "cam1",
            "--site",
            "s1",
            "--placement",
            "general",
            "--coverage",
            "entrance",
            "--stream",
            "rtsp://127.0.0.1/x",
            "--commissioned",
            TODAY.isoformat(),
        ).stderr
    )
    assert env.counts() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["orgs", "add", "--id", "x", "--name", "X", "--kind", "mayor"],
            "unknown organisation kind",
        ),
        (
            [
                "orgs",
                "add",
                "--id",
                "x",
                "--name",
                "X",
                "--kind",
                "installer",
                "--qualification",
                "Q",
                "--qualification-expires",
                "31/12/2030",
            ],
            "not an ISO 8601 date",
        ),
        (
            ["orgs", "add", "--id", "x", "--name", "  ", "--kind", "owner"],
            "--name must not be empty",
        ),
        (
            [
                "sites",
                "add",
                "--id",
                "s2",
                "--name",
                "S",
                "--category",
                "spaceport",
                "--owner",
                "acme",
            ],
            "unknown site category",
        ),
        (
            [
                "sites",
                "add",
                "--id",
                "s2",
                "--name",
                "S",
                "--category",
                "school",
                "--owner",
                "nobody",
            ],
            "organisation 'nobody' does not exist",
        ),
        (
            [
                "sites",
                "add",
                "--id",
                "s2",
                "--name",
                "S",
                "--category",
                "school",
                "--owner",
                "inst",
            ],
            "is an installer, not an owner",
        ),
        (["cameras", "remove", "nosuch", "--date", "2026-01-01"], "camera 'nosuch' does not exist"),
        (
            [
                "filing",
                "record",
                "--camera",
                "nosuch",
                "--kind",
                "commissioning",
                "--date",
                "2026-01-01",
                "--receipt",
                "R1",
            ],
            "camera 'nosuch' does not exist",
        ),
    ],
)
def test_bad_registry_input(initialised: Env, args: list[str], message: str) -> None:
    env = initialised
    seed(env)
    before = env.counts()
    result = env.fails(*args)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert env.counts() == before


def test_remove_camera_validates_dates(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=TODAY - timedelta(days=10))
    before = env.counts()
    assert (
        "precedes the commissioning"
        in env.fails(
            "cameras", "remove", "cam1", "--date", (TODAY - timedelta(days=11)).isoformat()
        ).stderr
    )
    assert env.counts() == before
    env.ok("cameras", "remove", "cam1", "--date", TODAY.isoformat())
    assert (
        "already removed"
        in env.fails("cameras", "remove", "cam1", "--date", TODAY.isoformat()).stderr
    )
    cam = json.loads(env.ok("cameras", "show", "cam1", "--json").stdout)
    assert cam["removed"] == TODAY.isoformat()
