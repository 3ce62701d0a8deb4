"""The yardstick of the ingest figure: a FastAPI endpoint that does nothing.

Served by the same uvicorn settings as Switchboard and fed the same signed webhook bodies,
it shows what the HTTP stack alone costs on this machine in this run.
"""

from __future__ import annotations

from fastapi import FastAPI, Request


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/webhook")
    async def webhook(request: Request) -> dict[str, bool]:
        await request.body()
        return {"ok": True}

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    return app
