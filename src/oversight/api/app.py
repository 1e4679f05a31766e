"""The FastAPI application: REST API under ``/api/v1``, console pages, static files."""

from __future__ import annotations

from importlib import import_module, metadata, resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from oversight.api import errors
from oversight.api.security import LoginLimiter, SecurityHeaders
from oversight.bootstrap import System

# Routers are listed by module so each area stays in its own file.
API_ROUTERS = (
    "oversight.api.routers.session",
)
CONSOLE_ROUTERS = (
    "oversight.api.docs",
    "oversight.web.console.auth",
    "oversight.web.console.dashboard",
)


def static_dir() -> Path:
    return Path(str(resources.files("oversight.web") / "static"))


def create_app(system: System) -> FastAPI:
    app = FastAPI(
        title="Oversight",
        version=metadata.version("oversight"),
        summary="Accountable custody of public-security CCTV footage",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served behind login by api/docs.py
    )
    app.state.system = system
    app.state.login_limiter = LoginLimiter()
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    for name in API_ROUTERS:
        app.include_router(import_module(name).router, prefix="/api/v1")
    for name in CONSOLE_ROUTERS:
        app.include_router(import_module(name).router)
    return app
