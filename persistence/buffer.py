"""The per-conversation burst buffer in Redis.

A burst closes `quiet` seconds after its last message or `max_wait` seconds after its
first, whichever is sooner. Redis only schedules: PostgreSQL holds the messages, and
the sweeper recovers any burst whose Redis state was lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import redis

from settings import get_settings

DUE_KEY = "buffer:due"
_KEY = "buffer:{}"

# KEYS: burst hash, due zset. ARGV: conversation id, quiet, max_wait, ttl.
# Returns {is_new_burst, due}; times come from the Redis clock so every process agrees.
_NOTE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local first = redis.call('HGET', KEYS[1], 'first')
local is_new = 0
if not first then
  first = now
  is_new = 1
end
first = tonumber(first)
local due = math.min(now + tonumber(ARGV[2]), first + tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'first', tostring(first), 'last', tostring(now), 'due', tostring(due))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], due, ARGV[1])
return {is_new, tostring(due - now)}
"""

# Returns -1 when no burst is open, 0 when this call closed the burst, else seconds left.
_CLAIM = """
local due = redis.call('HGET', KEYS[1], 'due')
if not due then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return '-1'
end
local t = redis.call('TIME')
local left = tonumber(due) - (tonumber(t[1]) + tonumber(t[2]) / 1000000)
if left > 0 then
  return tostring(left)
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return '0'
"""


@dataclass(frozen=True)
class Noted:
    is_new_burst: bool
    seconds_left: float


class Buffer:
    def __init__(self, client: redis.Redis, *, quiet: float, max_wait: float) -> None:
        self.client = client
        self.quiet = quiet
        self.max_wait = max_wait
        self._note = client.register_script(_NOTE)
        self._claim = client.register_script(_CLAIM)

    def note(self, conversation_id: int) -> Noted:
        """Record a new message in the conversation's burst, opening one if needed."""
        ttl = int(self.max_wait + 3600)
        is_new, left = self._note(
            keys=[_KEY.format(conversation_id), DUE_KEY],
            args=[conversation_id, self.quiet, self.max_wait, ttl],
        )
        return Noted(bool(int(is_new)), max(0.0, float(left)))

    def claim(self, conversation_id: int) -> float | None:
        """Close the burst if it is due: 0.0 closed it, >0 seconds still to wait, None no burst."""
        left = float(
            self._claim(keys=[_KEY.format(conversation_id), DUE_KEY], args=[conversation_id])
        )
        return None if left < 0 else left

    def seconds_left(self, conversation_id: int) -> float | None:
        """Time until the open burst is due (0 if overdue), or None when none is open."""
        due = self.client.zscore(DUE_KEY, conversation_id)
        if due is None:
            return None
        seconds, micros = self.client.time()
        return max(0.0, due - (seconds + micros / 1_000_000))

    def open_bursts(self) -> int:
        return int(self.client.zcard(DUE_KEY))

    def overdue(self, grace: float) -> list[int]:
        """Conversations whose burst should have closed more than `grace` seconds ago."""
        seconds, micros = self.client.time()
        now = seconds + micros / 1_000_000
        # Without withscores, a plain list of members.
        due = cast(list[bytes | str], self.client.zrangebyscore(DUE_KEY, "-inf", now - grace))
        return [int(c) for c in due]


@lru_cache
def process_buffer() -> Buffer:
    """This process's buffer (made after fork in workers: see tasks.runtime.reset)."""
    settings = get_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set (run_server.py sets it for embedded Redis)")
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=1)
    return Buffer(client, quiet=settings.buffer_seconds, max_wait=settings.buffer_max_seconds)
