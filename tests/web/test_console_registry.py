"""The registry page: registrars add organisations, sites and cameras, remove a camera,
report and resolve obstructions; a prohibited placement is refused with its article and
writes nothing; readers read; others are refused."""

from __future__ import annotations

from typing import Any

from oversight.services import registry
from tests.actors import HOST
from tests.web.conftest import ConsoleClient, Web


def _today(web: Web) -> str:
    return web.system.packs.local_date(web.system.clock.now()).isoformat()


def _org_and_site(client: ConsoleClient) -> None:
    for url, data in (
        ("/registry/orgs", {"org_id": "acme", "name": "Acme Mall Ltd", "kind": "owner"}),
        (
            "/registry/sites",
            {"site_id": "mall", "name": "Acme Mall", "category": "school", "owner_id": "acme"},
        ),
    ):
        reply = client.submit(url, data)
        assert reply.status_code == 303, reply.text


def _camera(web: Web, **changes: Any) -> dict[str, Any]:
    return {
        "camera_id": "gate",
        "site_id": "mall",
        "placement": "general",
        "coverage": "entrance",
        "stream_url": "rtsp://admin:secret@10.0.0.5/main",
        "commissioned": _today(web),
        **changes,
    }


def test_an_operator_registers_an_org_a_site_and_a_camera(web: Web) -> None:
    client = web.console("op")
    _org_and_site(client)
    reply = client.submit("/registry/cameras", _camera(web))
    assert reply.status_code == 303 and reply.headers["location"] == "/registry#cameras"
    [(cam, _)] = registry.list_cameras(web.system, HOST)
    assert (cam.id, cam.site_id, cam.placement) == ("gate", "mall", "general")
    html = client.get("/registry?lang=en").text
    assert 'id="camera-gate"' in html and 'id="site-mall"' in html and "Acme Mall Ltd" in html
    assert "secret" not in html  # the stream URL is shown redacted


def test_a_camera_in_a_public_toilet_is_refused_with_the_article_and_nothing_written(
    web: Web,
) -> None:
    client = web.console("op")
    _org_and_site(client)
    before = web.env.counts()
    reply = client.submit(
        "/registry/cameras",
        _camera(web, placement="public_toilet"),
        headers={"accept-language": "en"},
    )
    assert reply.status_code == 422
    assert "Art. 8(" in reply.text and 'class="article"' in reply.text
    assert "<html" in reply.text  # the console's error page, not JSON
    assert web.env.counts() == before
    assert registry.list_cameras(web.system, HOST) == []


def test_removing_a_camera_and_resolving_an_obstruction(web: Web) -> None:
    client = web.console("boss")
    _org_and_site(client)
    assert client.submit("/registry/cameras", _camera(web)).status_code == 303
    reported = client.submit(
        "/registry/obstructions",
        {
            "camera_id": "gate",
            "reported_on": _today(web),
            "cause": "advert",
            "responsible_party": "Ads Co",
        },
    )
    assert reported.status_code == 303
    [ob] = registry.list_obstructions(web.system, HOST)
    assert ob.resolved_on is None and ob.responsible_party == "Ads Co"
    html = client.get("/registry?lang=en").text
    assert f'id="obstruction-{ob.id}"' in html and ">open<" in html
    resolved = client.submit(
        f"/registry/obstructions/{ob.id}/resolve", {"resolved_on": _today(web)}
    )
    assert resolved.status_code == 303
    assert registry.list_obstructions(web.system, HOST)[0].resolved_on is not None
    removed = client.submit("/registry/cameras/gate/remove", {"removed": _today(web)})
    assert removed.status_code == 303
    assert registry.get_camera(web.system, HOST, "gate")[0].removed is not None


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(web: Web) -> None:
    client = web.console("op")
    _org_and_site(client)
    before = web.env.counts()
    reply = client.submit("/registry/cameras", _camera(web, commissioned="yesterday"))
    assert reply.status_code == 400 and "commissioned" in reply.text
    reply = client.submit("/registry/cameras/nope/remove", {"removed": _today(web)})
    assert reply.status_code == 404
    assert web.env.counts() == before


def test_an_auditor_reads_but_cannot_register(web: Web) -> None:
    client = web.console("aud")
    assert client.get("/registry").status_code == 200
    assert 'id="add-camera-form"' not in client.get("/registry").text
    before = web.env.counts()
    reply = client.submit("/registry/orgs", {"org_id": "x", "name": "X", "kind": "owner"})
    assert reply.status_code == 403
    assert web.env.counts() == before


def test_a_requester_may_not_open_the_registry(web: Web) -> None:
    assert web.console("cop").get("/registry").status_code == 403


def test_a_form_without_the_csrf_token_is_refused_and_writes_nothing(web: Web) -> None:
    client = web.console("op")
    before = web.env.counts()
    reply = client.post("/registry/orgs", data={"org_id": "x", "name": "X", "kind": "owner"})
    assert reply.status_code == 403
    assert web.env.counts() == before
