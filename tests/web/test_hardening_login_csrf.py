"""Issue 18, finding 17 (CSRF half): the login form's token is signed with a server
secret (keys/csrf.key, mode 0600) and bound to the pre-session cookie set with the
form, so no page elsewhere can log a victim's browser in to another account."""

from __future__ import annotations

import stat

from tests.web.conftest import PW, Web, _hidden

PRESESSION_COOKIES = ("ov_presession", "ov_login_csrf")  # today's and yesterday's name


def _post(client: object, csrf: str) -> object:
    return client.post("/login", data={"user": "op", "password": PW, "csrf": csrf})  # type: ignore[attr-defined]


def test_f17_a_token_the_server_did_not_sign_is_refused_even_with_a_matching_cookie(
    web: Web,
) -> None:
    """Double-submit of a value of the attacker's choosing (a planted cookie and the same
    value in the form) logs nobody in."""
    client = web.client()
    before = web.env.counts()
    for name in PRESESSION_COOKIES:
        client.cookies.set(name, "attacker-chosen-value-0123456789", path="/login")
    reply = _post(client, "attacker-chosen-value-0123456789")
    assert reply.status_code == 403 and "CSRF" in reply.text  # type: ignore[attr-defined]
    assert "ov_session" not in reply.cookies  # type: ignore[attr-defined]
    assert web.env.counts() == before


def test_f17_a_token_of_another_pre_session_is_refused(web: Web) -> None:
    attacker, victim = web.client(), web.client()
    token = _hidden(attacker.get("/login").text, "csrf")  # the attacker's own form
    victim.get("/login")  # the victim has a pre-session of their own
    before = web.env.counts()
    reply = _post(victim, token)
    assert reply.status_code == 403  # type: ignore[attr-defined]
    assert web.env.counts() == before
    # Without any pre-session cookie it is refused as well.
    assert _post(web.client(), token).status_code == 403  # type: ignore[attr-defined]


def test_f17_the_form_of_this_pre_session_logs_in_and_the_secret_is_0600(web: Web) -> None:
    client = web.client()
    token = _hidden(client.get("/login").text, "csrf")
    reply = _post(client, token)
    assert reply.status_code == 303 and "ov_session" in reply.cookies  # type: ignore[attr-defined]
    key = web.system.settings.keys_dir / "csrf.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) >= 32
    # Two tabs: a second form of the same pre-session works too.
    second = web.client()
    first_form = _hidden(second.get("/login").text, "csrf")
    second.get("/login")
    assert _post(second, first_form).status_code == 303  # type: ignore[attr-defined]


def test_f17_session_forms_carry_a_signed_token_not_a_bare_digest(web: Web) -> None:
    import hashlib

    client = web.console("op")
    session = client.cookies.get("ov_session")
    assert session is not None
    bare = hashlib.sha256(b"oversight-csrf\0" + session.encode()).hexdigest()[:32]
    assert client.csrf != bare  # keyed with the server secret
    assert client.post("/logout", data={"csrf": bare}).status_code == 403
    assert client.submit("/logout").status_code == 303
