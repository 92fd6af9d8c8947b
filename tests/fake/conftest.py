"""The fake driven as a user drives it: the real client, over an httpx transport to ``handle``.

The transport here is deliberately tiny and independent of the service layer: it turns an
``httpx.Request`` into a ``ServiceRequest``, routes it, asks the fake, and renders the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from pytest_spectron import AsyncSpectron, Spectron
from pytest_spectron.client._catalogue import Operation
from pytest_spectron.testing.fake import FakeSpectron
from pytest_spectron.testing.http._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing.http._problems import not_routed_response
from pytest_spectron.testing.http._routing import NoRoute, route

ENDPOINT = "http://spectron.test"
CONTEXT = "ctx"
API_KEY = "key"


def service_request(request: httpx.Request) -> ServiceRequest:
    """What the fake sees of an httpx request."""
    return ServiceRequest(
        method=request.method,
        path=request.url.raw_path.partition(b"?")[0].decode("ascii"),
        query=tuple(request.url.params.multi_items()),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.read(),
    )


def http_response(answer: ServiceResponse) -> httpx.Response:
    """An httpx response for the fake's answer; SSE frames are joined into the body."""
    body = b"".join(answer.events) if answer.events is not None else answer.body
    return httpx.Response(answer.status, headers=list(answer.headers), content=body)


def answerer(fake: FakeSpectron) -> Callable[[httpx.Request], httpx.Response]:
    """An httpx ``MockTransport`` handler that routes each request to ``fake``."""

    def answer(request: httpx.Request) -> httpx.Response:
        asked = service_request(request)
        try:
            matched = route(asked.method, asked.path)
        except NoRoute as error:
            return http_response(not_routed_response(error))
        return http_response(fake.handle(matched, asked))

    return answer


@pytest.fixture
def fake() -> FakeSpectron:
    """A fresh fake, on its default counting clock."""
    return FakeSpectron()


@pytest.fixture
def transport(fake: FakeSpectron) -> httpx.MockTransport:
    """An httpx transport answered by the fake."""
    return httpx.MockTransport(answerer(fake))


@pytest.fixture
def client(transport: httpx.MockTransport) -> Iterator[Spectron]:
    """A sync client of context ``ctx`` answered by the fake."""
    with Spectron(CONTEXT, ENDPOINT, API_KEY, transport=transport) as client:
        yield client


@pytest.fixture
def async_client(transport: httpx.MockTransport) -> AsyncSpectron:
    """An async client of context ``ctx`` answered by the fake (enter it in the test)."""
    return AsyncSpectron(CONTEXT, ENDPOINT, API_KEY, transport=transport)


@pytest.fixture
def http(transport: httpx.MockTransport) -> Iterator[httpx.Client]:
    """A bare httpx client, for requests the typed client would never send."""
    with httpx.Client(transport=transport, base_url=ENDPOINT) as http:
        yield http


ClientFactory = Callable[..., Spectron]


@pytest.fixture
def client_with(transport: httpx.MockTransport) -> Iterator[ClientFactory]:
    """Make more sync clients on the same fake: ``client_with(api_key, context="ctx")``."""
    made: list[Spectron] = []

    def make(api_key: str, context: str = CONTEXT) -> Spectron:
        made.append(Spectron(context, ENDPOINT, api_key, transport=transport, max_retries=0))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def transport_for() -> Callable[[FakeSpectron], httpx.MockTransport]:
    """Make an httpx transport for any fake, e.g. a second one to compare answers with."""
    return lambda fake: httpx.MockTransport(answerer(fake))


DOCUMENT_URI = "urn:spectron:openapi"
ERROR_SCHEMA = "/components/schemas/ApiErrorResponse"
Conformance = Callable[[Operation | None, int, Any], list[str]]


@pytest.fixture(scope="session")
def conformance(openapi_document: dict[str, Any]) -> Conformance:
    """``conformance(operation, status, body)``: why an answer breaks Spectron's document.

    The body is validated with ``jsonschema`` against the schema the document gives the
    operation's ``status`` answer (``$ref``s resolve within the document). An error status the
    operation does not list, or an answer no operation gives (``operation`` None), is held to
    ``ApiErrorResponse``, the schema of every error the document lists; a success status it does
    not list is a finding of its own. An empty list: the answer conforms.
    """
    resource = DRAFT202012.create_resource(openapi_document)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def check(operation: Operation | None, status: int, body: Any) -> list[str]:
        pointer = ERROR_SCHEMA
        if operation is not None:
            method = operation.method.lower()
            listed = openapi_document["paths"][operation.path][method]["responses"].get(str(status))
            if listed is None and status < 400:
                return [f"the document lists no {status} answer for {operation.name}"]
            if listed is not None:
                if "application/json" not in listed.get("content", {}):
                    return []  # an answer without a JSON body: 204, raw bytes
                escaped = operation.path.replace("~", "~0").replace("/", "~1")
                pointer = (
                    f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
                )
        validator = Draft202012Validator({"$ref": DOCUMENT_URI + "#" + pointer}, registry=registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '<body>'}: {error.message}"
            for error in validator.iter_errors(body)
        ]

    return check
