"""The FastAPI application of the REST API: ``/api/v1`` and ``/metrics``, errors as JSON,
login throttling and security headers. ``web/app.py`` adds the console on top of it (its
pages, error page and static files): the API imports nothing from ``web/``."""

from __future__ import annotations

import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module, metadata

import anyio
from fastapi import APIRouter, FastAPI

from oversight.api import errors
from oversight.api.bodies import BodyGuard, BodyLimits, BodyRoutes
from oversight.api.hosts import TrustedHosts
from oversight.api.security import SecurityHeaders
from oversight.bootstrap import System
from oversight.services.login_guard import LoginGuard

# Every module of these packages that defines ``router`` is included: each area stays in
# its own file, and adding one needs no edit here.
API_PACKAGE = "oversight.api.routers"
UNPREFIXED_PACKAGES = ("oversight.api.metrics",)
# The API's routes whose bodies differ from a logged-in caller's JSON (api/bodies.py).
API_BODIES = BodyRoutes(
    anonymous=frozenset({("POST", "/api/v1/session")}),
    base64=frozenset({("POST", "/api/v1/access/requests")}),
)


def routers(package: str) -> list[APIRouter]:
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


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # An orderly stop ends every open live session with its view.live.end leaf
    # (reason "server stopped"); only a crash leaves a session without one.
    sessions = getattr(app.state, "live_sessions", None)
    if sessions is not None:
        await anyio.to_thread.run_sync(sessions.close)


def create_app(
    system: System,
    *,
    error_page: errors.ErrorPage | None = None,
    bodies: BodyRoutes | None = None,
) -> FastAPI:
    """The API alone; with ``error_page``, console paths get that page on errors, and
    ``bodies`` names the console's routes that take a body unlike the default."""
    app = FastAPI(
        title="Oversight",
        version=metadata.version("oversight"),
        summary="Accountable custody of public-security CCTV footage",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served behind login by web/console/docs.py
        lifespan=_lifespan,
    )
    app.state.system = system
    app.state.login_limiter = LoginGuard.from_settings(system.settings)
    errors.install(app, error_page)
    settings = system.settings
    # The last added runs first: headers on every answer, then the Host, then bodies.
    app.add_middleware(
        BodyGuard, limits=BodyLimits.from_settings(settings, API_BODIES | (bodies or BodyRoutes()))
    )
    app.add_middleware(TrustedHosts, allowed=settings.trusted_host_list)
    app.add_middleware(SecurityHeaders)
    for router in routers(API_PACKAGE):
        app.include_router(router, prefix="/api/v1")
    for package in UNPREFIXED_PACKAGES:
        for router in routers(package):
            app.include_router(router)
    return app
