"""An upload whose multipart body is broken is answered 400 with what is wrong, and stores nothing.

The tests use the fake's own ``http`` fixture: a bare httpx client, since the typed client never
sends a broken body.
"""

from __future__ import annotations

import httpx
import pytest

from pytest_spectron import FakeSpectron

AUTH = {"authorization": "Bearer key"}
FORM = "multipart/form-data; boundary=b0undary"
PART = b"content-disposition: form-data; name=file\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", PART, "the content type names no boundary"),
        (FORM, b"--b0undary\r\n" + PART, "the body does not open and close with the boundary"),
        (FORM, b"--b0undaryX\r\n" + PART + b"--b0undary--", "a part is not framed by CRLF"),
        (
            FORM,
            b"--b0undary\r\ncontent-disposition: form-data; name=file\r\n--b0undary--",
            "a part has no blank line after its headers",
        ),
        (
            FORM,
            b"--b0undary\r\nno colon here\r\n\r\nhello\r\n--b0undary--",
            "a part header is malformed: 'no colon here'",
        ),
        (
            FORM,
            b"--b0undary\r\ncontent-disposition: form-data\r\n\r\nhello\r\n--b0undary--",
            "a part has no form field name",
        ),
    ],
    ids=["no-boundary", "unclosed", "unframed", "no-blank-line", "bad-header", "no-name"],
)
def test_a_malformed_upload_is_a_400_naming_the_fault(
    fake: FakeSpectron, http: httpx.Client, content_type: str, body: bytes, reason: str
) -> None:
    """Each way a multipart body can be broken gets its own reason in the 400's message."""
    answer = http.post(
        "/api/v1/ctx/documents", content=body, headers={**AUTH, "content-type": content_type}
    )

    assert answer.status_code == 400
    assert answer.json()["message"] == f"malformed multipart body: {reason}"
    assert fake.documents("ctx") == []


def test_a_well_formed_part_by_hand_is_stored(fake: FakeSpectron, http: httpx.Client) -> None:
    """The same framing, written correctly by hand, is an upload the fake keeps."""
    body = b'--b0undary\r\ncontent-disposition: form-data; name=file; filename="a.txt"\r\n'
    body += b"content-type: text/plain\r\n\r\nhello\r\n--b0undary--\r\n"

    answer = http.post(
        "/api/v1/ctx/documents", content=body, headers={**AUTH, "content-type": FORM}
    )

    assert answer.status_code == 202, answer.text
    (document,) = fake.documents("ctx")
    assert (document.content, document.mime_type) == (b"hello", "text/plain")
