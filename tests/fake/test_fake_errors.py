"""Every error the fake can give: valid against the document, in each of the three formats.

The default format is the document's (``application/json``, the required ``message`` plus the
RFC 7807 fields); ``problem`` is the same body as ``application/problem+json``; ``legacy`` is
``{"message": …}`` alone. Every answer's trace id comes from the fake's one sequence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pytest_spectron import SpectronMock, SpectronNotFoundError
from pytest_spectron.client import Spectron
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.testing import FakeSpectron, SpectronService, Status
from pytest_spectron.testing._cli import ERROR_FORMATS as CLI_ERROR_FORMATS
from pytest_spectron.testing._cli import _parser
from pytest_spectron.testing.http._problems import DEFAULT_ERROR_FORMAT, ERROR_FORMATS, ErrorFormat
from pytest_spectron.testing.http._routing import NoRoute, route
from pytest_spectron.testing.transports._in_process import service_handler

ENDPOINT = "http://spectron.test"
Conformance = Callable[[Operation | None, int, Any], list[str]]
RFC_7807_FIELDS = {"type", "title", "status", "detail", "instance", "traceId"}
UPLOAD_FILE = ("file", ("a.txt", b"some text", "text/plain"))
UPLOAD_METADATA = ("metadata", (None, b'{"title": "A"}', "application/json"))


@dataclass(frozen=True)
class ErrorCase:
    """A request the fake refuses, and the state or fault it meets."""

    status: int
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    files: list[Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=lambda: {"authorization": "Bearer key"})
    keys: dict[str, Any] | None = None
    """What ``set_api_keys`` gets first, if anything."""
    fault: Status | None = None
    """A status fault on the request's operation."""


def _as(grants: dict[str, list[str]], **headers: str) -> dict[str, Any]:
    """The ``keys`` and ``headers`` of a case whose key ``key`` holds only ``grants``."""
    return {"keys": {"key": grants}, "headers": {"authorization": "Bearer key", **headers}}


STATE = "/api/v1/ctx/state"
DEEP = b'{"text": ' + b"[" * 300 + b"]" * 300 + b"}"
CASES: dict[str, ErrorCase] = {
    "401-no-key": ErrorCase(401, "GET", STATE, headers={}),
    "401-unknown-key": ErrorCase(401, "GET", STATE, keys={"other": None}),
    "403-verb": ErrorCase(
        403, "POST", "/api/v1/ctx/forget", json={"query": "x"}, **_as({"memory:read": ["*"]})
    ),
    "403-scope": ErrorCase(
        403,
        "POST",
        "/api/v1/ctx/facts",
        json={"text": "x", "scopes": [["team/b"]]},
        **_as({"memory:write": ["team/a"]}),
    ),
    "403-delegation": ErrorCase(
        403, "GET", STATE, **_as({"memory:read": ["*"]}, **{"X-Memory-On-Behalf-Of": "bot"})
    ),
    "404-document": ErrorCase(404, "GET", "/api/v1/ctx/documents/doc-999999"),
    "404-turns": ErrorCase(404, "GET", "/api/v1/ctx/sessions/sess-999999/turns"),
    "404-trace": ErrorCase(404, "GET", "/api/v1/ctx/traces/trc-999999"),
    "404-entity": ErrorCase(404, "GET", "/api/v1/ctx/entities/person/nobody"),
    "404-keyword": ErrorCase(404, "GET", "/api/v1/ctx/documents/keywords/nothing"),
    "404-principal": ErrorCase(404, "GET", "/api/v1/ctx/principals/nobody"),
    "404-key": ErrorCase(404, "POST", "/api/v1/ctx/keys/missing/rotate"),
    "404-inspect": ErrorCase(404, "GET", "/api/v1/ctx/inspect", params={"ref": "trace:none"}),
    "404-unroutable": ErrorCase(404, "GET", "/api/v1/ctx/stat"),
    "405-method": ErrorCase(405, "DELETE", STATE),
    "400-body": ErrorCase(400, "POST", "/api/v1/ctx/query", json={"k": "many"}),
    "400-not-json": ErrorCase(400, "POST", "/api/v1/ctx/facts", content=b"{not json"),
    "400-too-deep": ErrorCase(400, "POST", "/api/v1/ctx/facts", content=DEEP),
    "400-query": ErrorCase(400, "GET", "/api/v1/ctx/documents", params={"page": "zero"}),
    "400-ref": ErrorCase(400, "GET", "/api/v1/ctx/inspect", params={"ref": "entity:x"}),
    "400-scope-path": ErrorCase(400, "POST", "/api/v1/ctx/scopes", json={"path": "a/*"}),
    "400-forget-scope": ErrorCase(400, "POST", "/api/v1/ctx/scopes/forget", json={}),
    "400-label": ErrorCase(
        400, "POST", "/api/v1/ctx/facts", json={"text": "x", "labels": ["_k=v"]}
    ),
    "400-session": ErrorCase(
        400, "POST", "/api/v1/ctx/facts", json={"text": "x", "session_id": "sess-404"}
    ),
    "400-part-order": ErrorCase(
        400, "POST", "/api/v1/ctx/documents", files=[UPLOAD_FILE, UPLOAD_METADATA]
    ),
    "400-delegates": ErrorCase(
        400,
        "GET",
        STATE,
        headers={
            "authorization": "Bearer key",
            "X-Spectron-On-Behalf-Of": "bot-1",
            "X-Memory-On-Behalf-Of": "bot-2",
        },
    ),
    "409-key-name": ErrorCase(409, "POST", "/api/v1/ctx/keys", json={"name": "seed"}),
    "415-upload": ErrorCase(415, "POST", "/api/v1/ctx/documents", json={"file": "x"}),
    "422-context": ErrorCase(422, "GET", "/api/v1/no%20spaces/state"),
    "501-scope-grants": ErrorCase(501, "POST", "/api/v1/ctx/scope-grants", json={"subject": "x"}),
    "501-passage": ErrorCase(501, "GET", "/api/v1/ctx/inspect", params={"ref": "passage:p"}),
    **{
        f"{code}-fault": ErrorCase(code, "GET", STATE, fault=Status(code, retry_after=1))
        for code in (429, 500, 502, 503, 504)
    },
}
UNLISTED: dict[str, str] = {
    "403-verb": "a key without the verb an operation needs is refused on every operation",
    "403-scope": "a scope the key's grant does not cover is refused on every operation",
    "403-delegation": "delegating without grant:manage is refused on every operation",
    "404-unroutable": "no operation: an unknown path",
    "405-method": "no operation: a known path with another method",
    "400-query": "a request the fake cannot read is a 400 on every operation",
    "400-delegates": "a request the fake cannot read is a 400 on every operation",
    **{
        f"{code}-fault": "an injected fault may give any status"
        for code in (429, 500, 502, 503, 504)
    },
}
"""Cases whose status the operation's listing lacks, and why (docs/fake.md records each)."""
FORMATS = list(ERROR_FORMATS)


def _operation(case: ErrorCase) -> Operation | None:
    try:
        return route(case.method, case.path).operation
    except NoRoute:
        return None


@pytest.fixture(params=FORMATS)
def error_format(request: pytest.FixtureRequest) -> ErrorFormat:
    """Each error format in turn."""
    format_: ErrorFormat = request.param
    return format_


@pytest.fixture
def service(error_format: ErrorFormat) -> SpectronService:
    """A fake speaking ``error_format``, behind the service every transport serves."""
    fake = FakeSpectron(error_format=error_format)
    fake.add_key("ctx", "seed")
    return SpectronService(fake)


@pytest.fixture
def http(service: SpectronService) -> Iterator[httpx.Client]:
    """A bare httpx client answered by ``service``."""
    with httpx.Client(
        transport=httpx.MockTransport(service_handler(service)), base_url=ENDPOINT
    ) as http:
        yield http


def answer_to(case: ErrorCase, service: SpectronService, http: httpx.Client) -> httpx.Response:
    """What the service answers ``case``, after its keys and fault are in place."""
    fake = service.fake
    assert isinstance(fake, FakeSpectron)
    if case.keys is not None:
        fake.set_api_keys(case.keys)
    operation = _operation(case)
    if case.fault is not None and operation is not None:
        service.faults.add(operation.name, case.fault)
    content = json.dumps(case.json).encode() if case.json is not None else case.content
    return http.request(
        case.method,
        case.path,
        params=case.params,
        content=content,
        files=case.files,
        headers=case.headers,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_answer_conforms_to_the_document(
    name: str, service: SpectronService, http: httpx.Client, conformance: Conformance
) -> None:
    """The error has its expected status and a body valid against the document's schema."""
    case = CASES[name]

    answer = answer_to(case, service, http)

    assert answer.status_code == case.status, answer.text
    assert conformance(_operation(case), answer.status_code, answer.json()) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_answer_has_its_formats_shape(
    name: str, service: SpectronService, http: httpx.Client, error_format: ErrorFormat
) -> None:
    """``json`` and ``problem`` carry message plus RFC 7807 fields, ``legacy`` message alone."""
    answer = answer_to(CASES[name], service, http)
    body = answer.json()

    expected_type = "application/problem+json" if error_format == "problem" else "application/json"
    assert answer.headers["content-type"] == expected_type
    assert answer.headers["x-trace-id"]
    if error_format == "legacy":
        assert set(body) == {"message"}
    else:
        assert set(body) >= RFC_7807_FIELDS
        assert body["message"] == body["detail"]
        assert body["traceId"] == answer.headers["x-trace-id"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_status_is_listed_or_recorded(name: str, openapi_document: dict[str, Any]) -> None:
    """Each status the fake answers is one the document lists for the operation, or in UNLISTED."""
    case, operation = CASES[name], _operation(CASES[name])
    listed = (
        operation is not None
        and str(case.status)
        in (openapi_document["paths"][operation.path][operation.method.lower()]["responses"])
    )

    assert listed != (name in UNLISTED), UNLISTED.get(name, "listed: needs no UNLISTED entry")


def test_client_reads_message_and_trace_id_in_every_format(service: SpectronService) -> None:
    """The typed client's error carries the fake's detail and trace id, whatever the format."""
    client = Spectron(
        "ctx",
        ENDPOINT,
        "key",
        transport=httpx.MockTransport(service_handler(service)),
        max_retries=0,
    )

    with client, pytest.raises(SpectronNotFoundError) as caught:
        client.documents.get("doc-999999")

    assert caught.value.message == "document 'doc-999999' does not exist"
    assert caught.value.trace_id == "trc-000001"


# -- Choosing the format -----------------------------------------------------------------------


def _missing_document(base_url: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/api/v1/ctx/documents/doc-999999", headers={"authorization": "Bearer key"}
    )


def test_mock_error_format_answers_in_process() -> None:
    """``SpectronMock(error_format="legacy")`` answers in-process errors as ``{"message"}``."""
    with SpectronMock(error_format="legacy") as mock:
        answer = _missing_document(mock.endpoint)

    assert answer.json() == {"message": "document 'doc-999999' does not exist"}


def test_mock_error_format_reaches_its_loopback_server() -> None:
    """The loopback server shares the mock's fake, so it speaks the mock's error format."""
    with SpectronMock(error_format="problem") as mock:
        answer = _missing_document(mock.serve().url)

    assert answer.headers["content-type"] == "application/problem+json"


def test_error_format_can_change_on_a_live_fake() -> None:
    """Setting ``fake.error_format`` switches the next error's format."""
    with SpectronMock() as mock:
        mock.fake.error_format = "legacy"
        answer = _missing_document(mock.endpoint)

    assert set(answer.json()) == {"message"}


def test_fault_format_wins_over_the_fakes() -> None:
    """``Status(503, format="legacy")`` answers legacy from a fake speaking the default."""
    with SpectronMock() as mock:
        mock.faults.add("state", Status(503, format="legacy"))
        answer = httpx.get(f"{mock.endpoint}{STATE}", headers={"authorization": "Bearer key"})

    assert answer.json() == {
        "message": "state failed with HTTP 503 (a fault injected by pytest-spectron)"
    }


def test_fault_body_wins_over_its_format() -> None:
    """An explicit ``body`` is sent as given, with the content type of the fault's format."""
    with SpectronMock() as mock:
        mock.faults.add("state", Status(503, body={"oops": True}, format="problem"))
        answer = httpx.get(f"{mock.endpoint}{STATE}", headers={"authorization": "Bearer key"})

    assert (answer.json(), answer.headers["content-type"]) == (
        {"oops": True},
        "application/problem+json",
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: FakeSpectron(error_format="xml"),  # type: ignore[arg-type]
        lambda: SpectronMock(error_format="xml"),  # type: ignore[arg-type]
        lambda: Status(503, format="xml"),  # type: ignore[arg-type]
        lambda: setattr(FakeSpectron(), "error_format", "xml"),
    ],
    ids=["fake", "mock", "fault", "setter"],
)
def test_unknown_error_format_names_the_accepted_ones(make: Callable[[], object]) -> None:
    """A bad format is refused at once with every accepted name."""
    with pytest.raises(ValueError, match="'xml'") as caught:
        make()

    assert all(f"'{name}'" in str(caught.value) for name in ERROR_FORMATS)


def test_cli_offers_the_fakes_error_formats() -> None:
    """``serve --error-format`` offers exactly the fake's formats, with the fake's default."""
    parsed = _parser().parse_args(["serve"])

    assert (CLI_ERROR_FORMATS, parsed.error_format) == (tuple(ERROR_FORMATS), DEFAULT_ERROR_FORMAT)


def test_serve_command_answers_in_the_chosen_format() -> None:
    """``python -m pytest_spectron serve --error-format legacy`` answers legacy errors."""
    command = [sys.executable, "-m", "pytest_spectron", "serve", "--port", "0"]
    with subprocess.Popen(
        [*command, "--error-format", "legacy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            answer = _missing_document(url)
        finally:
            process.terminate()

    assert answer.json() == {"message": "document 'doc-999999' does not exist"}


# -- Trace ids ---------------------------------------------------------------------------------


def test_faults_and_answers_share_one_trace_id_sequence() -> None:
    """A fault, an unroutable request and the fake's answer take consecutive trace ids."""
    with SpectronMock(strict=False) as mock:
        mock.faults.add("state", Status(503), times=1)
        asked = [
            f"{mock.endpoint}{STATE}",
            f"{mock.endpoint}/api/v1/ctx/stat",
            f"{mock.endpoint}{STATE}",
        ]
        answers = [httpx.get(url, headers={"authorization": "Bearer key"}) for url in asked]

    assert [answer.headers["x-trace-id"] for answer in answers] == [
        "trc-000001",
        "trc-000002",
        "trc-000003",
    ]


def test_reset_starts_the_trace_ids_again(http: httpx.Client, service: SpectronService) -> None:
    """After ``reset`` the next answer is ``trc-000001`` again."""
    trace_ids = [
        http.get(STATE, headers={"authorization": "Bearer key"}).headers["x-trace-id"]
        for _ in range(2)
    ]
    assert trace_ids == ["trc-000001", "trc-000002"]

    service.reset()

    assert http.get(STATE, headers={"authorization": "Bearer key"}).headers["x-trace-id"] == (
        "trc-000001"
    )
