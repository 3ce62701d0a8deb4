"""Storage backends: local files under DATA_DIR/media, and S3 against a real S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from persistence.storage import InvalidKey, LocalStorage, NotFound, S3Storage, Storage

JPEG_HEAD = b"\xff\xd8\xff\xe0" + bytes(range(256))


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str) -> S3Storage:
    import uuid

    from settings import Settings

    settings = Settings(
        media_storage="s3",
        s3_bucket=f"media-{uuid.uuid4().hex[:12]}",
        s3_endpoint_url=s3_server,
        s3_region="us-east-1",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )
    storage = S3Storage.from_settings(settings)
    storage.client.create_bucket(Bucket=settings.s3_bucket)
    return storage


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> Storage:
    return request.getfixturevalue(request.param)


def test_put_then_get_returns_the_same_bytes(storage: Storage) -> None:
    storage.put("inbound/7/42.jpg", JPEG_HEAD, "image/jpeg")
    assert storage.get("inbound/7/42.jpg") == JPEG_HEAD
    assert storage.exists("inbound/7/42.jpg")


def test_put_overwrites(storage: Storage) -> None:
    storage.put("a/b.bin", b"old", "application/octet-stream")
    storage.put("a/b.bin", b"new", "application/octet-stream")
    assert storage.get("a/b.bin") == b"new"


def test_delete_removes_and_is_idempotent(storage: Storage) -> None:
    storage.put("a/gone.txt", b"x", "text/plain")
    storage.delete("a/gone.txt")
    assert not storage.exists("a/gone.txt")
    storage.delete("a/gone.txt")  # no error the second time


def test_get_of_a_missing_key_raises_not_found(storage: Storage) -> None:
    assert not storage.exists("nothing/here")
    with pytest.raises(NotFound):
        storage.get("nothing/here")


@pytest.mark.parametrize(
    "key", ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "", "a//b", "a\\..\\b", "./a"]
)
def test_keys_leaving_the_root_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(InvalidKey):
        storage.get(key)


def test_local_files_live_under_the_root(local: LocalStorage, tmp_path: Path) -> None:
    local.put("inbound/1/2.png", b"png", "image/png")
    assert (tmp_path / "media" / "inbound" / "1" / "2.png").read_bytes() == b"png"
    assert not (tmp_path / "escape.txt").exists()


def test_a_symlink_out_of_the_root_is_refused(local: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "link").symlink_to(outside)
    with pytest.raises(InvalidKey):
        local.put("link/file.txt", b"x", "text/plain")
    assert list(outside.iterdir()) == []


def test_s3_keeps_the_content_type(s3: S3Storage) -> None:
    s3.put("inbound/3/9.ogg", b"OggS", "audio/ogg; codecs=opus")
    head = s3.client.head_object(Bucket=s3.bucket, Key="inbound/3/9.ogg")
    assert head["ContentType"] == "audio/ogg; codecs=opus"


def test_s3_failures_are_storage_errors(s3_server: str) -> None:
    from persistence.storage import StorageError
    from settings import Settings

    missing_bucket = S3Storage.from_settings(
        Settings(
            media_storage="s3",
            s3_bucket="no-such-bucket",
            s3_endpoint_url=s3_server,
            s3_region="us-east-1",
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        )
    )
    with pytest.raises(StorageError):
        missing_bucket.put("a/b.txt", b"x", "text/plain")
