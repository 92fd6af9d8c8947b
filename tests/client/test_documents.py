"""Document uploads from a path, bytes or a file object, and raw bytes back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest
import respx

from pytest_spectron.client import Spectron

ENDPOINT = "https://spectron.test"


def parts(content_type: str, body: bytes) -> list[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, payload) of each multipart part, in order."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    found = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str), name
        assert isinstance(payload, bytes), payload
        found.append((name, part.get_filename(), part.get_content_type(), payload))
    return found


@pytest.fixture
def upload_route(router: respx.MockRouter, sample_answer: Callable[[Any], Any]) -> respx.Route:
    from pytest_spectron.client.models import UploadResponse

    return router.post("/api/v1/ctx/documents").respond(202, json=sample_answer(UploadResponse))


def test_upload_from_path_sends_metadata_then_file(
    upload_route: respx.Route, tmp_path: Path
) -> None:
    """The metadata part precedes the file part; filename and MIME type come from the path."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"remember the milk")
    with Spectron("ctx", ENDPOINT, "key") as client:
        client.documents.upload(path, title="Notes", labels=["kind=note"])

    request = upload_route.calls.last.request
    (meta_name, _, meta_type, meta), (file_name, filename, file_type, payload) = parts(
        request.headers["content-type"], request.content
    )
    assert (meta_name, meta_type) == ("metadata", "application/json")
    assert json.loads(meta) == {"title": "Notes", "mimeType": "text/plain", "labels": ["kind=note"]}
    assert (file_name, filename, file_type, payload) == (
        "file",
        "notes.txt",
        "text/plain",
        b"remember the milk",
    )


def test_upload_from_bytes_and_file_object(upload_route: respx.Route) -> None:
    """Bytes and binary file objects are uploaded as they are."""
    with Spectron("ctx", ENDPOINT, "key") as client:
        client.documents.upload(b"\x00\x01", filename="blob.bin", mime_type="application/x-blob")
        client.documents.upload(io.BytesIO(b"from a file"))

    first, second = (
        parts(call.request.headers["content-type"], call.request.content)[1]
        for call in upload_route.calls
    )
    assert first == ("file", "blob.bin", "application/x-blob", b"\x00\x01")
    assert second[1:] == ("upload", "application/octet-stream", b"from a file")


def test_upload_of_something_else_is_refused(upload_route: respx.Route) -> None:
    """An int is not a file: a TypeError names what is accepted, and nothing is sent."""
    with Spectron("ctx", ENDPOINT, "key") as client, pytest.raises(TypeError, match="path, bytes"):
        client.documents.upload(42)  # type: ignore[arg-type]
    assert not upload_route.called


def test_fetch_raw_returns_the_bytes(router: respx.MockRouter) -> None:
    """``fetch_raw`` returns the body as bytes, untouched."""
    router.get("/api/v1/ctx/documents/doc%2F1/raw").respond(content=b"\x89PNG\r\n")
    with Spectron("ctx", ENDPOINT, "key") as client:
        assert client.documents.fetch_raw("doc/1") == b"\x89PNG\r\n"
