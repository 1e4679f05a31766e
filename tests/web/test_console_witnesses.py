"""Issue 20, item 6: the Ledger page shows each witness (key, URL, last cosigned size,
its age, how far behind, failures and open alarms, the quorum) and ``/metrics`` exports
the same, against real ``oversight witness serve`` processes on 127.0.0.1."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import models as m
from oversight.domain import policy
from oversight.errors import PermissionDenied
from oversight.ledger import keys, leaves
from oversight.services import witnessing
from oversight.web.app import create_app
from tests.conftest import Env
from tests.web.conftest import ConsoleClient, Web, add_cast
from tests.witness_process import Witness, cli, init_witness, start_witness

SECRET = "s3cret-pass-99"  # in the userinfo of a configured witness URL: never shown


@dataclass
class Scene:
    web: Web
    witnesses: list[Witness]  # the real processes, in the order configured
    labels: list[str]  # their key names and ids (how the page and metrics name them)


def _grow(web: Web, n: int) -> int:
    """Append ``n`` leaves (each append signs a checkpoint); the tree size after."""
    system = web.system
    with system.sessions.begin() as session:
        for i in range(n):
            leaf = leaves.health(
                at=system.clock.now(),
                actor=policy.SYSTEM.id,
                action="reference.learn",
                subject=f"camera:test{i}",
                details={"keyframes": i},
            )
            system.ledger.append(session, [leaf])
        return system.ledger.size(session)


def _start(tmp: Path, name: str) -> Witness:
    data = tmp / name.replace("/", "_")
    return start_witness(data, init_witness(data, name))


def _build(env: Env, configured: str, witnesses: list[Witness]) -> Scene:
    env.monkeypatch.setenv("OVERSIGHT_WITNESSES", configured)
    system = bootstrap.build(Settings())
    vkey = keys.verifier_key(system.settings.keys_dir)
    for w in witnesses:
        code, _, err = cli(
            "witness", "add-log", system.ledger.origin, vkey, "--data-dir", str(w.data_dir)
        )
        assert code == 0, err
    web = Web(env, system, create_app(system), add_cast(system))
    labels = [w.label for w in witnessing.configured(system.settings)]
    return Scene(web, witnesses, labels)


@pytest.fixture
def two(initialised: Env, tmp_path: Path) -> Iterator[Scene]:
    """Two real witnesses, both configured with the default quorum (all)."""
    with _two(initialised, tmp_path) as scene:
        yield scene


@contextmanager
def _two(initialised: Env, tmp_path: Path) -> Iterator[Scene]:
    witnesses: list[Witness] = []
    scene = None
    try:
        witnesses = [_start(tmp_path, f"witness{i}.test/w") for i in (1, 2)]
        scene = _build(initialised, ",".join(f"{w.url}={w.vkey}" for w in witnesses), witnesses)
        yield scene
    finally:
        if scene is not None:
            scene.web.system.close()
        for w in witnesses:
            w.stop()


def _cut(env: Env, keep: int) -> None:
    """What an insider with database access does (no key needed): drop the tail."""
    engine = create_engine(env.url)
    with engine.begin() as conn:
        for table in ("ledger_leaves", "register_times"):
            conn.execute(text(f"DELETE FROM {table} WHERE idx >= :k"), {"k": keep})
        for table in ("ledger_checkpoints", "witness_cosignatures"):
            conn.execute(text(f"DELETE FROM {table} WHERE size > :k"), {"k": keep})
    engine.dispose()


def _set_last_ok(scene: Scene, index: int, ago: timedelta) -> None:
    system = scene.web.system
    with system.sessions.begin() as session:
        row = session.get(m.WitnessState, scene.witnesses[index].vkey)
        assert row is not None
        row.last_ok_at = system.clock.now() - ago


def _page(client: ConsoleClient, lang: str) -> str:
    reply = client.get(f"/ledger?lang={lang}")
    assert reply.status_code == 200, reply.text
    return html.unescape(reply.text)


def _section(page: str) -> str:
    start = page.index('id="witnesses"')
    return page[start : page.index('id="verify"', start)]


def _fork_second(scene: Scene) -> tuple[int, int]:
    """Both cosign A leaves, the second alone B > A; the tail past A is cut: the second
    witness refuses (critical alarm), the first cosigns on. (A, B)."""
    web, (w1, w2) = scene.web, witnessing.configured(scene.web.system.settings)
    a = _grow(web, 3)
    assert [o.result for o in witnessing.submit_all(web.system)] == ["cosigned", "cosigned"]
    b = _grow(web, 2)
    assert witnessing.submit(web.system, w2).result == "cosigned"
    _cut(web.env, a)
    assert witnessing.submit(web.system, w2).result == "refused"  # appends the alarm leaf
    assert witnessing.submit(web.system, w1).result == "cosigned"
    return a, b


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_witness_configured_is_a_plain_warning(web: Web, lang: str) -> None:
    page = _page(web.console("aud"), lang)
    section = _section(page)
    assert 'id="no-witness"' in section and "witness-table" not in section
    assert "OVERSIGHT_WITNESSES" in section and "oversight verify --against FILE" in section
    assert "docs/ledger<wbr>.md" in section
    warning = {
        "en": "No witness is configured",
        "zh": "未配置见证方",
    }[lang]
    assert warning in section


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_two_witnesses_show_size_age_and_the_quorum(two: Scene, lang: str) -> None:
    client = two.web.console("cop")  # a requester reads the ledger; log in before it grows
    size = _grow(two.web, 3)
    assert [o.result for o in witnessing.submit_all(two.web.system)] == ["cosigned"] * 2
    _set_last_ok(two, 0, timedelta(hours=2, minutes=5, seconds=10))
    section = _section(_page(client, lang))
    expected = {
        "en": (
            f"The latest checkpoint ({size} leaves) is cosigned by 2 of 2 witnesses: "
            "the quorum of 2 (OVERSIGHT_WITNESS_QUORUM) is met.",
            "2 h 5 min ago",
            "0 leaves behind the local tree",
        ),
        "zh": (
            f"最新检查点（{size} 条）已有 2/2 个见证方副署，达到法定数 2",
            "2 小时 5 分钟前",
            "落后本地账本 0 条",
        ),
    }[lang]
    assert expected[0] in section
    for i, (w, label) in enumerate(zip(two.witnesses, two.labels, strict=True), start=1):
        row = section[section.index(f'id="witness-{i}"') :].split("</tr>")[0]
        assert label in row and w.url in row and w.vkey in row
        assert f"<td>{size}<br>" in row and expected[2] in row
    first = section[section.index('id="witness-1"') :].split("</tr>")[0]
    assert expected[1] in first
    assert "sev-critical" not in section


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_refusing_witness_is_a_critical_alarm_and_misses_the_quorum(
    two: Scene, lang: str
) -> None:
    client = two.web.console("boss")
    a, b = _fork_second(two)
    with two.web.system.reads() as session:
        tree = two.web.system.ledger.size(session)
    assert tree == a + 1  # the alarm's own leaf
    section = _section(_page(client, lang))
    start = section.index('<div class="card sev-critical" id="witness-alarm-1">')
    alarm = section[start:].split("</div>\n</div>")[0]
    assert two.labels[1] in alarm and 'id="witness-alarm-2"' not in section
    headline = {
        "en": "Critical: a witness refuses the checkpoint (the ledger was cut or rewritten)",
        "zh": "严重告警：见证方拒绝了检查点（账本被截断或改写）",
    }[lang]
    assert headline in alarm
    assert f"it cosigned {b} leaves, the log holds {a}" in alarm
    second = section[section.index('id="witness-2"') :].split("</tr>")[0]
    fork = {"en": "fork or cut (critical)", "zh": "分叉/截断（严重）"}[lang]
    assert f'<span class="badge sev-critical">{fork}</span>' in second
    ahead = {
        "en": f"{b - tree} leaves more than the local tree holds: the ledger was cut",
        "zh": f"比本地账本多 {b - tree} 条：账本被截断",
    }[lang]
    assert f'<td>{b}<br><span class="bad">{ahead}</span>' in second
    first = section[section.index('id="witness-1"') :].split("</tr>")[0]
    assert f"<td>{tree}<br>" in first and "sev-critical" not in first
    quorum = {
        "en": f"({tree} leaves) is cosigned by 1 of 2 witnesses: short of the quorum of 2",
        "zh": f"最新检查点（{tree} 条）仅有 1/2 个见证方副署，未达到法定数 2",
    }[lang]
    assert 'id="witness-quorum" class="bad"' in section and quorum in section


def test_an_unreachable_witness_shows_failing_since_and_never_its_url_secret(
    initialised: Env, tmp_path: Path
) -> None:
    up, down = _start(tmp_path, "witness1.test/up"), _start(tmp_path, "witness2.test/down")
    down.stop()  # a witness down; its URL carries credentials the page must not show
    port = down.url.rsplit(":", 1)[1]
    configured = f"{up.url}={up.vkey},http://ops:{SECRET}@127.0.0.1:{port}={down.vkey}"
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESS_UNREACHABLE_ALARM_S", "0.001")
    scene = _build(initialised, configured, [up])
    try:
        client = scene.web.console("aud")
        _grow(scene.web, 2)
        assert [o.result for o in witnessing.submit_all(scene.web.system)] == [
            "cosigned",
            "failed",
        ]
        assert witnessing.submit_all(scene.web.system)[1].result == "failed"  # now the alarm
        page = _page(client, "en")
        section = _section(page)
        assert SECRET not in page
        assert f"http://***@127.0.0.1:{port}" in section
        second = section[section.index('id="witness-2"') :].split("</tr>")[0]
        assert "never cosigned" in second and "failing since" in second
        assert "unreachable (alarm)" in second
        assert "Alarm: a witness has been unreachable too long" in section
        assert SECRET not in scene.web.api("aud").get("/metrics").text
    finally:
        scene.web.system.close()
        up.stop()


def test_people_the_ledger_rule_does_not_cover_see_no_witnesses(two: Scene) -> None:
    """The page is for anyone logged in (the key and checkpoints); the witnesses are the
    ledger's readers': the service asks the policy, a witness-role account is refused."""
    client = two.web.console("wit")
    _grow(two.web, 2)
    witnessing.submit_all(two.web.system)
    page = _page(client, "en")
    assert 'id="witnesses"' not in page
    assert all(w.url not in page and w.vkey not in page for w in two.witnesses)
    with pytest.raises(PermissionDenied):
        witnessing.overview(two.web.system, two.web.cast["wit"])
    assert two.web.api("wit").get("/metrics").status_code == 403


def _samples(reply_text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply_text)
        for s in family.samples
    }


def test_metrics_export_each_witness_and_the_quorum(two: Scene) -> None:
    api = two.web.api("aud")  # the token's login leaf first
    a, b = _fork_second(two)
    with two.web.system.reads() as session:
        tree = two.web.system.ledger.size(session)
        ok = [session.get(m.WitnessState, w.vkey) for w in two.witnesses]
    reply = api.get("/metrics")
    assert reply.status_code == 200
    samples = _samples(reply.text)
    first, second = ((("witness", label),) for label in two.labels)
    assert samples[("oversight_witness_cosigned_size", first)] == tree
    assert samples[("oversight_witness_cosigned_size", second)] == b
    for label, row in zip((first, second), ok, strict=True):
        assert row is not None and row.last_ok_at is not None
        stamp = samples[("oversight_witness_last_cosigned_timestamp_seconds", label)]
        assert stamp == pytest.approx(row.last_ok_at.timestamp())
    assert samples[("oversight_witness_leaves_behind", first)] == 0
    assert samples[("oversight_witness_leaves_behind", second)] == tree - b  # ahead: a cut
    alarm = "oversight_witness_alarm_open"
    assert samples[(alarm, (("kind", "witness-fork"), *second))] == 1
    assert samples[(alarm, (("kind", "witness-unreachable"), *second))] == 0
    assert samples[(alarm, (("kind", "witness-fork"), *first))] == 0
    assert samples[("oversight_witnesses", ())] == 2
    assert samples[("oversight_witness_quorum", ())] == 2
    assert samples[("oversight_witnesses_cosigning_latest", ())] == 1
    assert samples[("oversight_witness_quorum_met", ())] == 0
    assert tree - b == a + 1 - b < 0


def test_a_quorum_of_one_is_met_by_the_witness_that_cosigns_on(
    initialised: Env, tmp_path: Path
) -> None:
    initialised.monkeypatch.setenv("OVERSIGHT_WITNESS_QUORUM", "1")
    with _two(initialised, tmp_path) as scene:
        client, api = scene.web.console("aud"), scene.web.api("aud")
        _fork_second(scene)
        samples = _samples(api.get("/metrics").text)
        assert samples[("oversight_witness_quorum", ())] == 1
        assert samples[("oversight_witnesses_cosigning_latest", ())] == 1
        assert samples[("oversight_witness_quorum_met", ())] == 1
        section = _section(_page(client, "en"))
        assert 'id="witness-quorum" class="ok"' in section
        assert "cosigned by 1 of 2 witnesses: the quorum of 1" in section
        assert 'id="witness-alarm-1"' in section  # met, and still the critical alarm


def test_metrics_without_witnesses_say_none(web: Web) -> None:
    samples = _samples(web.api("aud").get("/metrics").text)
    assert samples[("oversight_witnesses", ())] == 0
    assert samples[("oversight_witness_quorum_met", ())] == 0
    assert not any(name.startswith("oversight_witness_cosigned") for name, _ in samples)
