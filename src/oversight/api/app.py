"""The FastAPI application: REST API under ``/api/v1``, console pages, static files."""

from __future__ import annotations

import pkgutil
from importlib import import_module, metadata, resources
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from oversight.api import errors
from oversight.api.security import LoginLimiter, SecurityHeaders
from oversight.bootstrap import System

# Every module of these packages that defines ``router`` is included: each area stays in
# its own file, and adding one needs no edit here.
API_PACKAGE = "oversight.api.routers"
CONSOLE_PACKAGES = ("oversight.api.docs", "oversight.api.metrics", "oversight.web.console")


def _routers(package: str) -> list[APIRouter]:
    module = import_module(package)
    if not hasattr(module, "__path__"):
        return [module.router]
    found = []
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
        sub = import_module(f"{package}.{info.name}")
        router = getattr(sub, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


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
    for router in _routers(API_PACKAGE):
        app.include_router(router, prefix="/api/v1")
    for package in CONSOLE_PACKAGES:
        for router in _routers(package):
            app.include_router(router)
    return app
