"""Request budgets for the operator and admin APIs, kept in Redis and shared by every process.

Two rules, each a fixed window of one minute counted atomically in Redis (INCR, plus EXPIRE
on the window's first hit, in one Lua script):

- every credential (an operator, or the ADMIN_API_TOKEN) makes at most
  API_RATE_LIMIT_PER_MINUTE requests a minute;
- a client address that presented AUTH_FAILURES_PER_MINUTE wrong tokens is refused
  altogether, right token or not, until its window ends, so guessing tokens gets nowhere;
- a wrong token presented AUTH_FAILURES_PER_MINUTE times is refused from every address
  until its window ends, so a client rotating its address (or many clients with one
  leaked, revoked token) still runs into a limit.
  A request with no token at all guesses nothing and is not counted.

Keys never hold a token: an operator id, "admin-token", a client address, or a keyed
SHA-256 of a wrong token (not the hash the operators table stores). Redis guards
here, it keeps no record: when it cannot be reached requests are let through (fail open)
with a warning, so a Redis outage never locks operators out of the API.

Not the `limits` package: its Redis support requires redis<8 and we run redis 8, and the
fixed window it would give us is the dozen lines of Lua below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from observability.logs import get_logger
from services.errors import DomainError, Unauthorized

log = get_logger(__name__)

WINDOW_SECONDS = 60
_REQUESTS = "ratelimit:requests:{}"
_FAILURES = "ratelimit:auth-failures:{}"
_TOKEN_FAILURES = "ratelimit:token-failures:{}"

# KEYS[1]: the counter. ARGV[1]: window seconds; ARGV[2]: '1' counts a hit, '0' only reads.
# Returns {count, seconds left in the window}.
_COUNT = """
local count
if ARGV[2] == '1' then
  count = redis.call('INCR', KEYS[1])
else
  count = tonumber(redis.call('GET', KEYS[1]) or '0')
end
local ttl = redis.call('TTL', KEYS[1])
if count > 0 and ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    count: int
    seconds_left: int


class RateLimiter:
    """The budgets of one Redis; a limit of 0 (or less) switches that rule off."""

    def __init__(
        self, client: redis.Redis | None, *, per_minute: int, failures_per_minute: int
    ) -> None:
        self.per_minute = per_minute
        self.failures_per_minute = failures_per_minute
        self._count = client.register_script(_COUNT) if client is not None else None

    def spend(self, subject: str) -> None:
        """Count one request of a credential; RateLimited once it is over its budget."""
        if self.per_minute <= 0:
            return
        window = self._window(_REQUESTS.format(subject), hit=True)
        if window is not None and window.count == self.per_minute + 1:  # once a window
            log.warning("rate_limit.exceeded", subject=subject, seconds=window.seconds_left)
        if window is not None and window.count > self.per_minute:
            raise RateLimited(
                f"rate limit exceeded: at most {self.per_minute} requests a minute per "
                f"token; slow down and retry in {window.seconds_left} s",
                retry_after=window.seconds_left,
            )

    def refuse_if_blocked(self, client_ip: str, token: str | None) -> None:
        """RateLimited while the address, or the token, is over its budget of failures."""
        if self.failures_per_minute <= 0:
            return
        window = self._window(_FAILURES.format(client_ip), hit=False)
        if window is not None and window.count >= self.failures_per_minute:
            raise RateLimited(
                "too many failed authentications from this address: every request from it "
                f"is refused for {window.seconds_left} s, whatever its token; check the "
                "token, then retry after that",
                retry_after=window.seconds_left,
            )
        if not token:
            return
        window = self._window(_TOKEN_FAILURES.format(_token_key(token)), hit=False)
        if window is not None and window.count >= self.failures_per_minute:
            raise RateLimited(
                "this token failed too often: requests with it are refused for "
                f"{window.seconds_left} s from any address; it is wrong or revoked",
                retry_after=window.seconds_left,
            )

    def record_failure(self, client_ip: str, token: str) -> None:
        if self.failures_per_minute <= 0:
            return
        window = self._window(_FAILURES.format(client_ip), hit=True)
        if window is not None and window.count == self.failures_per_minute:
            log.warning(
                "rate_limit.address_locked_out", client_ip=client_ip, seconds=window.seconds_left
            )
        window = self._window(_TOKEN_FAILURES.format(_token_key(token)), hit=True)
        if window is not None and window.count == self.failures_per_minute:
            log.warning("rate_limit.token_locked_out", seconds=window.seconds_left)

    @contextmanager
    def guarding(self, client_ip: str, token: str | None) -> Iterator[None]:
        """Around a credential check: refuse a blocked address or token first, and count a
        token that the check rejects (Unauthorized) against the address and the token."""
        self.refuse_if_blocked(client_ip, token)
        try:
            yield
        except Unauthorized:
            if token:
                self.record_failure(client_ip, token)
            raise

    def _window(self, key: str, *, hit: bool) -> Window | None:
        """The key's window, or None (allow) when Redis cannot be asked."""
        try:
            if self._count is None:
                raise redis.ConnectionError("no Redis client")
            count, ttl = self._count(keys=[key], args=[WINDOW_SECONDS, "1" if hit else "0"])
        except redis.RedisError as exc:
            log.warning("rate_limit.unavailable", error=str(exc), outcome="allowed")
            return None
        return Window(count=int(count), seconds_left=max(1, int(ttl)))


def _token_key(token: str) -> str:
    """A wrong token's counter name: hashed, and with a prefix so that it differs from the
    token_hash an operator's row would hold for the same token."""
    return hashlib.sha256(b"switchboard-auth-failure:" + token.encode()).hexdigest()
