"""The people page: an admin adds an account, records training, grants a role; others
may read or are refused; refusals name their article and write nothing."""

from __future__ import annotations

from oversight.services import people
from tests.web.conftest import Web


def test_an_admin_adds_trains_and_gives_a_role_in_the_console(web: Web) -> None:
    client = web.console("boss")
    added = client.submit(
        "/people",
        {"user_id": "li", "name": "Li Wei", "id_doc": "LIWEI001", "password": "a long password"},
    )
    assert added.status_code == 303
    trained = client.submit(
        "/people/li/training",
        {
            "trained_on": "2026-01-01",
            "valid_until": "2030-01-01",
            "topics": ["job_skills", "confidentiality"],
        },
    )
    assert trained.status_code == 303
    assert client.submit("/people/li/roles", {"role": "operator"}).status_code == 303
    person = people.person_by_id(web.system, "li")
    assert person.roles == ("operator",) and len(person.trainings) == 1
    listing = client.get("/people").text
    assert "Li Wei" in listing and "****I001" in listing and "LIWEI001" not in listing


def test_a_role_for_an_untrained_person_is_refused_with_the_article(web: Web) -> None:
    client = web.console("boss")
    client.submit(
        "/people",
        {"user_id": "li", "name": "Li Wei", "id_doc": "LIWEI001", "password": "a long password"},
    )
    before = web.env.counts()
    reply = client.submit(
        "/people/li/roles", {"role": "operator"}, headers={"accept-language": "en"}
    )
    assert reply.status_code == 422
    assert "Art. 14(2)" in reply.text and "no valid training" in reply.text
    assert web.env.counts() == before


def test_an_auditor_reads_but_cannot_change_people(web: Web) -> None:
    client = web.console("aud")
    assert client.get("/people").status_code == 200
    before = web.env.counts()
    reply = client.submit(
        "/people",
        {"user_id": "x1", "name": "X", "id_doc": "XXXX0001", "password": "a long password"},
    )
    assert reply.status_code == 403
    assert web.env.counts() == before


def test_operators_may_not_see_the_people_page(web: Web) -> None:
    assert web.console("op").get("/people").status_code == 403


def test_a_short_password_is_refused_and_nothing_is_written(web: Web) -> None:
    client = web.console("boss")
    before = web.env.counts()
    reply = client.submit(
        "/people", {"user_id": "li", "name": "Li", "id_doc": "LIWEI001", "password": "short"}
    )
    assert reply.status_code == 400 and "12" in reply.text
    assert web.env.counts() == before
