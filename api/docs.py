"""/docs: Swagger UI from files served by this app (api/docs_static/, swagger-ui-dist as
published), never from a CDN, so the API docs work offline and behind strict firewalls."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "docs_static"
ASSETS = "/docs/static/swagger-ui"


def install(app: FastAPI) -> None:
    """Call on an app made with `docs_url=None, redoc_url=None` (FastAPI's pages load their
    assets from a CDN)."""
    app.mount("/docs/static", StaticFiles(directory=STATIC), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
