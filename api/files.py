"""Serving files that customers (or anyone) uploaded, without letting them run as pages.

A customer controls the type of what they send: an "image" that is really SVG or HTML,
served inline from the console's origin, would run script with an operator's session.
Only types browsers render passively are shown inline; everything is sandboxed, never
sniffed, and anything else is a download.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

# Pictures, sound and video: a browser shows them and runs nothing (never SVG).
INERT_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/webp", "image/gif",
        "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav",
        "video/mp4", "video/3gpp",
    }
)  # fmt: skip
# The console previews PDFs too: behind a signed-in session, in a sandbox.
INLINE_TYPES = INERT_TYPES | {"application/pdf"}


def file_response(
    data: bytes,
    mime_type: str,
    filename: str,
    *,
    inline_types: frozenset[str] = INLINE_TYPES,
    typed: frozenset[str] = frozenset(),
) -> Response:
    """`inline_types` are shown in the browser; `typed` keep their type but are downloads
    (a document WhatsApp fetches by link); anything else is application/octet-stream."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    inline = mime in inline_types
    disposition = "inline" if inline else "attachment"
    return Response(
        content=data,
        media_type=mime if inline or mime in typed else "application/octet-stream",
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=300",
        },
    )
