"""Where files live: local disk under DATA_DIR/media, or an S3-compatible bucket.

Keys are relative, slash-separated paths ("inbound/12/345.jpg"), the same for both backends.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from settings import Settings, get_settings


class StorageError(Exception):
    """Any failure of the backend (disk, S3), so callers need not know which one runs."""


class InvalidKey(StorageError, ValueError):
    pass


class NotFound(StorageError, KeyError):
    pass


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    """A relative path without '..', empty parts or backslashes; refused otherwise."""
    path = PurePosixPath(key)
    if (
        not key
        or "\\" in key
        or "\x00" in key
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise InvalidKey(f"invalid storage key {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink leading out of the root
            raise InvalidKey(f"invalid storage key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a reader never sees half a file
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StorageError(f"cannot write {key!r}: {exc}") from exc
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        import boto3  # only deployments storing on S3 pay for the import

        if not settings.s3_bucket:
            raise StorageError("MEDIA_STORAGE=s3 needs S3_BUCKET")
        secret = settings.s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
        )
        return cls(client, settings.s3_bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with _s3_errors(key):
            self.client.put_object(
                Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
            )

    def get(self, key: str) -> bytes:
        with _s3_errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return response["Body"].read()

    def delete(self, key: str) -> None:
        with _s3_errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def exists(self, key: str) -> bool:
        try:
            with _s3_errors(key):
                self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except NotFound:
            return False
        return True


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError  # S3 deployments only

    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise NotFound(key) from None
        raise StorageError(f"S3 failed on {key!r}: {exc}") from exc
    except BotoCoreError as exc:  # endpoint unreachable, credentials missing, ...
        raise StorageError(f"S3 failed on {key!r}: {exc}") from exc


@lru_cache
def get_storage() -> Storage:
    """The process's storage, chosen by MEDIA_STORAGE (cached: one S3 client per process)."""
    settings = get_settings()
    if settings.media_storage == "s3":
        return S3Storage.from_settings(settings)
    return LocalStorage(settings.data_dir / "media")
