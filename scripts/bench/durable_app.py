"""The second yardstick of the ingest figure: the least a durable webhook can do.

It checks the HMAC, parses the JSON, commits one `INSERT ... ON CONFLICT DO NOTHING` of
the messages in PostgreSQL and runs one Redis script, then answers 200: what any webhook
that keeps our guarantees (a 200 is durable, a retry is a no-op) must pay. It runs against
the benchmark's own PostgreSQL and Redis, served the same way as Switchboard, with the
database work in the thread pool as Switchboard's is.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import redis
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from persistence.db import database_url, libpq_url
from settings import get_settings

TABLE = "bench_durable_message"
_CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (wamid text PRIMARY KEY, raw jsonb NOT NULL)"
_INSERT = f"INSERT INTO {TABLE} (wamid, raw) VALUES (%s, %s) ON CONFLICT DO NOTHING"
# a burst per customer, as the buffer notes one: first arrival and last arrival
_NOTE = """
redis.call('HSETNX', KEYS[1], 'first', ARGV[1])
redis.call('HSET', KEYS[1], 'last', ARGV[1])
return redis.call('ZADD', KEYS[2], 'NX', ARGV[1], KEYS[1])
"""


def create_app() -> FastAPI:
    settings = get_settings()
    assert settings.whatsapp_app_secret is not None, "the benchmark sets WHATSAPP_APP_SECRET"
    secret = settings.whatsapp_app_secret.get_secret_value().encode()
    pool = ConnectionPool(libpq_url(database_url()), min_size=4, max_size=16)
    with pool.connection() as connection:
        connection.execute(_CREATE)
    note = redis.Redis.from_url(settings.redis_url).register_script(_NOTE)
    app = FastAPI()

    def store(messages: list[dict]) -> None:
        with pool.connection() as connection, connection.cursor() as cursor:
            cursor.executemany(_INSERT, [(m["id"], Jsonb(m)) for m in messages])
        for sender in {m["from"] for m in messages}:
            note(keys=[f"bench:durable:{sender}", "bench:durable:due"], args=[1])

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        try:
            value = json.loads(body)["entry"][0]["changes"][0]["value"]
        except (ValueError, KeyError, IndexError, TypeError):
            return JSONResponse({"detail": "not a notification"}, status_code=400)
        messages = value.get("messages", [])
        await run_in_threadpool(store, messages)
        return JSONResponse({"stored": len(messages)})

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    return app


def drop() -> None:
    """Remove what the anchor wrote."""
    import psycopg

    with psycopg.connect(libpq_url(database_url()), autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    client = redis.Redis.from_url(get_settings().redis_url)
    keys = list(client.scan_iter("bench:durable:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
