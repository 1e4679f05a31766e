"""Rendering console pages: one Jinja2 environment, the page context, the error page."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from oversight.api.security import Caller, may
from oversight.bootstrap import System
from oversight.domain.plain_reasons import plain_reason
from oversight.web import i18n
from oversight.web.nav import NAV


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("oversight.web", "templates"),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def language(request: Request) -> str:
    system: System = request.app.state.system
    default = "zh" if system.packs.packs[0].pack.jurisdiction.country == "CN" else "en"
    return i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("accept-language", ""),
        default,
    )


def local_time(system: System, moment: datetime | None, *, seconds: bool = True) -> str:
    """An instant in the deployment's time zone (the rule pack's), for display."""
    if moment is None:
        return ""
    local = moment.astimezone(system.packs.timezone)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def plain_text(lang: str, text: str | None) -> str:
    """A recorder or ffmpeg message as its plain reason, in ``lang`` ("" for none)."""
    key = plain_reason(text)
    return "" if key is None else i18n.translate(lang, f"reason.{key}")


def context(request: Request, caller: Caller | None, **values: Any) -> dict[str, Any]:
    system: System = request.app.state.system
    lang = language(request)

    def t(key: str, **kw: Any) -> str:
        return i18n.translate(lang, key, **kw)

    nav = [
        item
        for item in NAV
        if caller is not None and (item.action is None or may(caller.person, item.action))
    ]
    return {
        "request": request,
        "caller": caller,
        "person": caller.person if caller else None,
        "csrf": caller.csrf if caller else "",
        "lang": lang,
        "t": t,
        "nav": nav,
        "path": request.url.path,
        "local": lambda moment, seconds=True: local_time(system, moment, seconds=seconds),
        "timezone": str(system.packs.timezone),
        # The alarm banner (console/alarms_stream.py) on every page of those who may see it.
        "alarm_feed": caller is not None and may(caller.person, "recordings.read"),
        # ffmpeg's own words only for those the policy lets read them (issue 22, item 9).
        "reason": lambda text: plain_text(lang, text),
        "diagnostics": caller is not None and may(caller.person, "recordings.diagnostics"),
        **values,
    }


def page(
    request: Request, caller: Caller | None, template: str, status: int = 200, **values: Any
) -> Response:
    html = environment().get_template(template).render(context(request, caller, **values))
    response = HTMLResponse(html, status_code=status)
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, chosen, max_age=365 * 86400, httponly=True, samesite="strict"
        )
    return response


def render_error(request: Request, status: int, payload: dict[str, Any]) -> Response:
    caller = getattr(request.state, "caller", None)
    return page(
        request,
        caller if isinstance(caller, Caller) else None,
        "console/error.html",
        status=status,
        status_code=status,
        error=payload,
    )
