"""The admin endpoints under ``/__spectron``: the journal, the faults and a reset, over HTTP.

Test code in any language drives the fake (or the live-mode proxy) with them, as Python tests
use ``SpectronMock``. They act on whatever ``Administered`` hands them (a ``SpectronService``),
answer JSON, and are never journaled. The loopback server decides who may call them
(``admin_refusal`` there); this module only answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol

from pytest_spectron.testing.faults._declare import fault_from_json
from pytest_spectron.testing.faults._engine import FaultEngine
from pytest_spectron.testing.faults._outcomes import FaultError
from pytest_spectron.testing.http._exchange import ServiceRequest, ServiceResponse
from pytest_spectron.testing.http._problems import problem_response
from pytest_spectron.testing.service._journal import Journal

__all__ = ["ADMIN_PREFIX", "AdminEndpoints", "Administered", "is_admin_path"]

ADMIN_PREFIX = "/__spectron"

Handler = Callable[[ServiceRequest], ServiceResponse]


class Administered(Protocol):
    """What the admin endpoints act on: a service's faults, journal and reset."""

    @property
    def faults(self) -> FaultEngine:
        """The faults ``/__spectron/faults`` lists, adds to and clears."""
        ...

    @property
    def journal(self) -> Journal:
        """The attempts ``/__spectron/journal`` lists."""
        ...

    @property
    def forwards(self) -> bool:
        """Whether the backend forwards to an upstream, which keeps its own state."""
        ...

    def reset(self) -> None:
        """Forget the backend's state (if it keeps any), every fault and the journal."""
        ...


def is_admin_path(path: str) -> bool:
    """Whether a request path (raw, without the query) is one of the admin endpoints'."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


class AdminEndpoints:
    """The answers of ``/__spectron/journal``, ``/__spectron/faults`` and ``/__spectron/reset``."""

    def __init__(self, target: Administered) -> None:
        self.target = target
        self.endpoints: dict[str, dict[str, Handler]] = {
            f"{ADMIN_PREFIX}/journal": {"GET": self.get_journal},
            f"{ADMIN_PREFIX}/faults": {
                "GET": self.get_faults,
                "POST": self.post_faults,
                "DELETE": self.delete_faults,
            },
            f"{ADMIN_PREFIX}/reset": {"POST": self.post_reset},
        }
        """Each endpoint's path, and its handler for each method it answers."""

    def answer(self, request: ServiceRequest) -> ServiceResponse:
        """The answer to an admin request: the endpoint's, or a 404 or 405 problem."""
        path = request.path.rstrip("/")
        handlers = self.endpoints.get(path)
        if handlers is None:
            listing = ", ".join(
                f"{method} {name}" for name, methods in self.endpoints.items() for method in methods
            )
            return problem_response(
                404, f"no admin endpoint {path}; the admin endpoints are {listing}", instance=path
            )
        handler = handlers.get(request.method.upper())
        if handler is None:
            allowed = ", ".join(handlers)
            return problem_response(
                405,
                f"{path} answers {allowed}, not {request.method.upper()}",
                instance=path,
                headers=(("allow", allowed),),
            )
        return handler(request)

    def get_journal(self, request: ServiceRequest) -> ServiceResponse:
        """Every attempt journaled, oldest first."""
        return _json_response(200, self.target.journal.to_json())

    def get_faults(self, request: ServiceRequest) -> ServiceResponse:
        """The active faults."""
        return _json_response(200, self.target.faults.to_json())

    def post_faults(self, request: ServiceRequest) -> ServiceResponse:
        """Add the faults of the body (one or a list), all of them or, if one is bad, none."""
        try:
            data = json.loads(request.body)
        except ValueError as error:
            return _bad_faults(request, f"the body is not JSON ({error})")
        items = data if isinstance(data, list) else [data]
        try:
            faults = [fault_from_json(item) for item in items]
        except FaultError as error:
            return _bad_faults(request, error.detail, error.grammar)
        engine = self.target.faults
        for fault in faults:
            engine.add_fault(fault)
        added = [fault.to_json() for fault in faults]
        return _json_response(201, {"added": added, **engine.to_json()})

    def delete_faults(self, request: ServiceRequest) -> ServiceResponse:
        """Remove every fault."""
        self.target.faults.clear()
        return _json_response(200, self.target.faults.to_json())

    def post_reset(self, request: ServiceRequest) -> ServiceResponse:
        """Reset the service, and say what was forgotten."""
        self.target.reset()
        state = [] if self.target.forwards else ["state"]  # an upstream keeps its own
        return _json_response(200, {"reset": [*state, "faults", "journal", "clock"]})


def _json_response(status: int, data: object) -> ServiceResponse:
    return ServiceResponse(
        status, headers=(("content-type", "application/json"),), body=json.dumps(data).encode()
    )


def _bad_faults(
    request: ServiceRequest, detail: str, grammar: str | None = None
) -> ServiceResponse:
    # The grammar goes as a list of lines, not a paragraph of escaped newlines.
    return problem_response(
        422,
        f'{detail.rstrip(".")}. Send a JSON object such as {{"spec": "state=503x2"}} or '
        '{"target": "state", "outcomes": [503, "connect"], "times": 2}, or a list of them.',
        instance=request.path,
        grammar=grammar.splitlines() if grammar else None,
    )
