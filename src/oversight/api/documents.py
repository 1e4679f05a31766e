"""An opened access-request document as an HTTP response, for the API and the console:
always a download (``Content-Disposition: attachment``), never sniffed
(``X-Content-Type-Options: nosniff``), sandboxed and never cached. Its content type is
the service's (PDF or an image from the bytes' own signature, else
application/octet-stream), so no HTML or SVG ever runs in the console's origin."""

from __future__ import annotations

from fastapi.responses import Response

from oversight.services.access_documents import OpenedDocument

# A document kind as the packs spell it (rules/schema.py SNAKE_ID), bounded.
KIND_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


def document_response(opened: OpenedDocument) -> Response:
    return Response(
        opened.data,
        media_type=opened.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{opened.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
            "X-Document-SHA256": opened.sha256,
        },
    )
