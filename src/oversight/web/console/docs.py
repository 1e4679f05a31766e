"""The OpenAPI schema and a readable API reference, both behind login.

FastAPI's Swagger page loads scripts from a CDN, which the CSP (and an offline
deployment) forbids; this page is rendered on the server from the same schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from oversight.api.security import Caller, need
from oversight.web.render import page

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def schema(request: Request) -> dict[str, Any]:
    spec: dict[str, Any] = request.app.openapi()
    return spec


@router.get("/api/openapi.json")
async def openapi(request: Request, _: Annotated[Caller, Depends(need())]) -> Response:
    return JSONResponse(schema(request))


@router.get("/api/docs")
async def reference(request: Request, caller: Annotated[Caller, Depends(need())]) -> Response:
    spec = schema(request)
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
            "tags": op.get("tags", []),
            "parameters": op.get("parameters", []),
            "body": bool(op.get("requestBody")),
        }
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in METHODS
    ]
    return page(request, caller, "console/api_docs.html", spec=spec, operations=operations)
