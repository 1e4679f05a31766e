"""The whole application: the REST API (``api/app.py``) with the console on top of it:
its pages (every module of ``web/console`` that defines ``router``), its error page
and its static files. This is what ``oversight serve`` runs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from oversight.api import app as api_app
from oversight.api.bodies import BodyRoutes
from oversight.bootstrap import System
from oversight.web.render import render_error

CONSOLE_PACKAGE = "oversight.web.console"
# The console's login takes a form from anyone; a request's documents come as multipart.
CONSOLE_BODIES = BodyRoutes(
    anonymous=frozenset({("POST", "/login")}),
    multipart=frozenset({("POST", "/access/new")}),
)


def static_dir() -> Path:
    return Path(str(resources.files("oversight.web") / "static"))


def create_app(system: System) -> FastAPI:
    app = api_app.create_app(system, error_page=render_error, bodies=CONSOLE_BODIES)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    for router in api_app.routers(CONSOLE_PACKAGE):
        app.include_router(router)
    return app
