"""Where the Graph API simulator keeps media: files customers sent and files the business
uploaded, by media id, and the short-lived download URLs Meta hands out for them.

Tests and benchmarks keep them in memory (`MemoryMedia`); the sandbox keeps them in Redis
and its file storage, so every API process sees the same media.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

URL_SECONDS = 300  # Meta's media URLs live about five minutes


@dataclass
class Media:
    """What the media info endpoint tells about a file. `sha256` and `file_size` are what
    Meta claims, which a test may make disagree with the bytes."""

    mime_type: str
    sha256: str
    file_size: int
    filename: str | None = None


class MediaStore(Protocol):
    def put(self, media_id: str, media: Media, data: bytes) -> None: ...

    def get(self, media_id: str) -> Media | None: ...

    def read(self, media_id: str) -> bytes | None: ...

    def issue_url(self, token: str, media_id: str) -> None:
        """Remember a download URL token for URL_SECONDS."""

    def url_media(self, token: str) -> str | None:
        """The media id of a download URL token still alive."""

    def expire_urls(self) -> None: ...

    def clear(self) -> None: ...


class MemoryMedia:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._media: dict[str, tuple[Media, bytes]] = {}
        self._urls: dict[str, tuple[str, float]] = {}  # token -> (media id, deadline)

    def put(self, media_id: str, media: Media, data: bytes) -> None:
        with self._lock:
            self._media[media_id] = (media, data)

    def get(self, media_id: str) -> Media | None:
        with self._lock:
            found = self._media.get(media_id)
        return found[0] if found else None

    def read(self, media_id: str) -> bytes | None:
        with self._lock:
            found = self._media.get(media_id)
        return found[1] if found else None

    def issue_url(self, token: str, media_id: str) -> None:
        with self._lock:
            self._urls[token] = (media_id, time.monotonic() + URL_SECONDS)

    def url_media(self, token: str) -> str | None:
        with self._lock:
            media_id, deadline = self._urls.get(token, (None, 0.0))
        return media_id if time.monotonic() < deadline else None

    def expire_urls(self) -> None:
        with self._lock:
            self._urls.clear()

    def clear(self) -> None:
        with self._lock:
            self._media.clear()
            self._urls.clear()
