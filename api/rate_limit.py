"""FastAPI glue for services.access.rate_limit: this app's limiter, the caller's address, and the
429 response (with Retry-After) that RateLimited becomes."""

from __future__ import annotations

import redis
from fastapi import HTTPException, Request, status

from services.access.rate_limit import RateLimited, RateLimiter
from settings import get_settings


def limiter(request: Request) -> RateLimiter:
    settings = get_settings()
    return RateLimiter(
        _redis(request),
        per_minute=settings.api_rate_limit_per_minute,
        failures_per_minute=settings.auth_failures_per_minute,
    )


def client_ip(request: Request) -> str:
    """The peer; behind a proxy named in TRUSTED_PROXIES, the client it forwarded for
    (api.proxies)."""
    return request.client.host if request.client else "unknown"


def too_many_requests(exc: RateLimited) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=exc.message,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _redis(request: Request) -> redis.Redis | None:
    """None when the app has no usable Redis (the limiter then lets requests through)."""
    try:
        return request.app.state.redis()
    except (AttributeError, ValueError, redis.RedisError):
        return None
