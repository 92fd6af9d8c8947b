"""A byte-exact ``multipart/form-data`` reader for document uploads."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value

__all__ = ["MultipartError", "Part", "parse_multipart"]


class MultipartError(ValueError):
    """The body is not the ``multipart/form-data`` its content type announces."""


@dataclass(frozen=True)
class Part:
    """One part of a form: its field name, file name and content type, and its exact bytes."""

    name: str
    content: bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None


def _header_params(value: str) -> Message:
    message = Message()
    message["content-type"] = value
    return message


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a ``multipart/form-data`` body, in order; a MultipartError if malformed."""
    header = _header_params(content_type)
    if header.get_content_type() != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {content_type!r}")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("the content type names no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise MultipartError("the body does not open and close with the boundary")
    parts = []
    # Between delimiters: CRLF, headers, a blank line, the content, then the CRLF that belongs
    # to the next delimiter.
    for section in sections[1:-1]:
        if not section.startswith(b"\r\n") or not section.endswith(b"\r\n"):
            raise MultipartError("a part is not framed by CRLF")
        head, blank, content = section[2:-2].partition(b"\r\n\r\n")
        if not blank:
            raise MultipartError("a part has no blank line after its headers")
        parts.append(_part(head.decode("utf-8", errors="replace"), content))
    return parts


def _part(head: str, content: bytes) -> Part:
    headers: dict[str, str] = {}
    for line in head.split("\r\n"):
        header, colon, value = line.partition(":")
        if not colon:
            raise MultipartError(f"a part header is malformed: {line!r}")
        headers[header.strip().lower()] = value.strip()
    disposition = Message()
    disposition["content-disposition"] = headers.get("content-disposition", "")
    name = disposition.get_param("name", header="content-disposition")
    if not name:
        raise MultipartError("a part has no form field name")
    filename = disposition.get_param("filename", header="content-disposition")
    return Part(
        name=collapse_rfc2231_value(name),
        content=content,
        filename=collapse_rfc2231_value(filename) if filename else None,
        content_type=headers.get("content-type"),
    )
