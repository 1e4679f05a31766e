"""The app's frame: login and logout, tokens and cookies, CSRF, errors as JSON with the
article, security headers, the login rate limit."""

from __future__ import annotations

import pytest

from oversight.api.security import LoginLimiter, TooManyAttempts
from tests.web.conftest import PW, Web


def test_a_token_from_the_session_endpoint_identifies_its_user(web: Web) -> None:
    reply = web.api("cust").get("/api/v1/session")
    assert reply.status_code == 200
    assert reply.json()["id"] == "cust" and reply.json()["roles"] == ["custodian"]


def test_a_wrong_password_is_401_with_a_json_error_and_no_token(web: Web) -> None:
    reply = web.client().post("/api/v1/session", json={"user": "cust", "password": "nope" * 4})
    assert reply.status_code == 401
    assert reply.json() == {"error": "wrong user id or password", "rule": None, "article": None}


def test_logout_ends_the_token(web: Web) -> None:
    client = web.api("op")
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/session").status_code == 401


def test_an_anonymous_console_page_redirects_to_login_with_next(web: Web) -> None:
    reply = web.client().get("/")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=%2F"


def test_console_login_sets_an_httponly_strict_cookie_and_logout_clears_it(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    nonce = page.text.split('name="csrf" value="')[1].split('"')[0]
    reply = client.post("/login", data={"user": "op", "password": PW, "csrf": nonce, "next": "/"})
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    cookie = reply.headers["set-cookie"]
    assert "ov_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Op (op)" in home.text
    csrf = home.text.split('name="csrf" value="')[1].split('"')[0]
    out = client.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.clear()
    assert client.get("/").status_code == 303


def test_console_login_refuses_a_forged_form(web: Web) -> None:
    client = web.client()
    client.get("/login")
    reply = client.post("/login", data={"user": "op", "password": PW, "csrf": "forged"})
    assert reply.status_code == 403
    assert "CSRF" in reply.text
    assert "ov_session" not in reply.headers.get("set-cookie", "")


def test_login_never_redirects_off_site(web: Web) -> None:
    client = web.client()
    nonce = client.get("/login").text.split('name="csrf" value="')[1].split('"')[0]
    reply = client.post(
        "/login",
        data={"user": "op", "password": PW, "csrf": nonce, "next": "//evil.example/x"},
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/"


def test_a_cookie_request_that_changes_state_needs_the_csrf_token(web: Web) -> None:
    client = web.console("op")
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in: nothing happened
    assert client.submit("/logout").status_code == 303


def test_security_headers_on_pages_and_api(web: Web) -> None:
    for reply in (web.client().get("/login"), web.api("op").get("/api/v1/session")):
        csp = reply.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert reply.headers["x-frame-options"] == "DENY"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["cache-control"] == "no-store"


def test_the_login_limiter_refuses_after_the_limit_per_address() -> None:
    limiter = LoginLimiter(limit=3, window=60)
    for _ in range(3):
        limiter.check("10.0.0.1")
    with pytest.raises(TooManyAttempts, match="too many login attempts"):
        limiter.check("10.0.0.1")
    limiter.check("10.0.0.2")  # another address is not affected


def test_the_api_login_is_rate_limited_with_429(web: Web) -> None:
    web.app.state.login_limiter = LoginLimiter(limit=2, window=60)
    client = web.client()
    for _ in range(2):
        client.post("/api/v1/session", json={"user": "op", "password": "wrong password 1"})
    reply = client.post("/api/v1/session", json={"user": "op", "password": PW})
    assert reply.status_code == 429 and "too many login attempts" in reply.json()["error"]


def test_a_malformed_body_is_a_422_json_error_not_a_500(web: Web) -> None:
    reply = web.client().post(
        "/api/v1/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422 and set(reply.json()) == {"error", "rule", "article"}


def test_the_api_reference_and_schema_need_a_login(web: Web) -> None:
    assert web.client().get("/api/openapi.json").status_code == 401
    assert web.client().get("/api/docs").status_code == 303
    schema = web.api("aud").get("/api/openapi.json").json()
    assert "/api/v1/session" in schema["paths"]
    assert "/api/v1/session" in web.console("aud").get("/api/docs").text


def test_the_language_follows_the_choice_then_the_browser(web: Web) -> None:
    client = web.client()
    assert "Log in" in client.get("/login", headers={"accept-language": "en-GB"}).text
    assert "登录" in client.get("/login", headers={"accept-language": "zh-CN"}).text
    chosen = client.get("/login?lang=en", headers={"accept-language": "zh-CN"})
    assert "Log in" in chosen.text
    assert "Log in" in client.get("/login", headers={"accept-language": "zh-CN"}).text
