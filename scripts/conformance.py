"""Spectron's OpenAPI document against the fake, measured by schemathesis: ``make conformance``.

    python scripts/conformance.py                 the seeded run CI makes
    python scripts/conformance.py --examples 50   more cases per operation

Starts ``python -m pytest_spectron serve --port 0 --api-key …``, reads its URL from the first
line of its stdout, and runs schemathesis (seeded, every check, the examples, coverage and
fuzzing phases) against ../shared/spectron/openapi.json, found as the test suite finds it: where
it is absent the run is skipped with a message, except under ``CI=true``, where that fails.

Every answer the document allows but a check flags is listed in ``ALLOWED`` with the sentence of
the document that allows it (docs/fake.md lists the same), and only those are excluded: anything
else schemathesis reports fails the run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT.parent / "shared" / "spectron" / "openapi.json"
API_KEY = "sk-conformance"
SEED = 23
EXAMPLES = 20
"""Cases per operation and phase: the run takes three to four minutes on two cores."""
STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class Allowed:
    """A status the document gives these operations, which a check would flag, and why it may."""

    check: str
    """The schemathesis check, e.g. ``positive_data_acceptance``."""
    status: int
    operations: tuple[str, ...]
    """The document's ``operationId`` of each operation."""
    sentence: str
    """The words of the document that allow the answer."""


# Operations whose 400 the document describes: a schema-valid request Spectron still refuses
# (an empty scope path, an unknown verb, a query with no words, a time that is no instant).
_REQUEST_400 = (
    "chat", "query_context", "search_keywords", "query_documents", "elaborate", "create_fact",
    "create_facts_batch", "forget", "fsck", "query_memory", "reflect", "get_session_context",
)  # fmt: skip
_NO_400 = (
    "consolidate", "list_documents", "list_keywords", "get_keyword", "recompute_document_links",
    "get_document", "delete_document", "list_chunks", "list_document_keywords",
    "fetch_document_raw", "list_entities", "get_entity", "delete_entity", "get_entity_history",
    "list_self_keys", "delete_self_key", "rotate_self_key", "decay_importance", "expire_context",
    "whoami", "list_principals", "get_principal", "get_profile", "list_scopes", "create_session",
    "delete_session", "list_turns", "get_state", "list_traces", "get_trace_stats", "get_trace",
    "scope_grants_stub",
)  # fmt: skip
_EVERY_CONTEXT_OPERATION = (*_REQUEST_400, *_NO_400, "list_audit", "upload_document",
    "reprocess_document", "inspect", "create_self_key", "effective_principal", "register_scope",
    "delete_scope", "grant_principal", "revoke_principal", "forget_scope",
)  # fmt: skip

ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "positive_data_acceptance", 422, _EVERY_CONTEXT_OPERATION,
        '422: "Invalid context id" (every operation under /api/v1/{context_id}): the fake takes '
        "the ids Spectron's examples show, ASCII letters, digits, '.', '_' and '-'",
    ),
    Allowed("positive_data_acceptance", 400, _REQUEST_400, '400: "Invalid request"'),
    Allowed(
        "positive_data_acceptance", 400, ("list_audit",),
        '400: "Invalid query parameter (e.g. unknown kind)"',
    ),
    Allowed(
        "positive_data_acceptance", 400, ("upload_document",),
        '400: "Malformed multipart, scope, or label"; DocumentUploadForm: "The `metadata` part '
        'MUST precede `file` on the wire."',
    ),
    Allowed(
        "positive_data_acceptance", 400, ("reprocess_document",),
        '400: "Malformed multipart"; DocumentUploadForm: "The `metadata` part MUST precede '
        '`file` on the wire."',
    ),
    Allowed("positive_data_acceptance", 400, ("inspect",), '400: "Malformed ref"'),
    Allowed(
        "positive_data_acceptance", 400, ("create_self_key", "rotate_self_key"),
        'keys.create\'s 400: "Invalid grants or attenuation widens", for the same ttlSeconds: '
        "an expiry beyond what a date-time can hold (the year 9999) is no valid ttl",
    ),
    Allowed(
        "positive_data_acceptance", 400, ("create_session",),
        'a malformed scope path (an empty one), which Spectron refuses wherever it reads one: '
        'upload\'s "400: Malformed multipart, scope, or label", scopes.forget\'s "Missing or '
        'invalid scope path"',
    ),
    Allowed(
        "positive_data_acceptance", 400,
        ("effective_principal", "register_scope", "delete_scope"), '400: "Invalid scope path"',
    ),
    Allowed(
        "positive_data_acceptance", 400, ("grant_principal", "revoke_principal"),
        '400: "Invalid pattern or verb"',
    ),
    Allowed(
        "positive_data_acceptance", 400, ("forget_scope",), '400: "Missing or invalid scope path"'
    ),
    Allowed("not_a_server_error", 501, ("scope_grants_stub",), '501: "Not implemented"'),
    Allowed("not_a_server_error", 501, ("inspect",), '501: "Ref kind not yet supported"'),
    Allowed(
        "negative_data_rejection", 200,
        ("consolidate", "elaborate", "fsck", "create_session", "upload_document"),
        "the document requires a body (an upload's metadata part), but the official SDK sends "
        "none when it has nothing to say: `json=payload or None` (surrealdb_memory/_client.py, "
        "_namespaces/sessions.py, _namespaces/lifecycle.py), `return {\"metadata\": metadata} "
        "if metadata else {}` (_namespaces/documents.py), so Spectron accepts them",
    ),
    Allowed(
        "status_code_conformance", 400, _NO_400,
        'a request the fake cannot read (page=x, limit=-1) on an operation that lists no 400: '
        'the status the document gives request validation everywhere it names it, "400: Invalid '
        'request", "Invalid query parameter"',
    ),
)  # fmt: skip


def config(allowed: tuple[Allowed, ...] = ALLOWED) -> str:
    """The schemathesis.toml that excludes exactly ``allowed``."""
    default = ["2xx", "3xx", "401", "403", "404", "409", "429"]
    # Every check, on every operation but where an entry turns one off (``--checks all`` on the
    # command line would turn them back on).
    lines = ["[checks]", "enabled = true", ""]
    operations = sorted({operation for entry in allowed for operation in entry.operations})
    for operation in operations:
        accepted = sorted(
            str(entry.status)
            for entry in allowed
            if operation in entry.operations and entry.check == "positive_data_acceptance"
        )
        lines += ["[[operations]]", f'include-operation-id = "{operation}"']
        if accepted:
            statuses = ", ".join(f'"{status}"' for status in [*default, "5xx", *accepted])
            lines.append(f"checks.positive_data_acceptance.expected-statuses = [{statuses}]")
        for check in ("not_a_server_error", "status_code_conformance", "negative_data_rejection"):
            if any(e.check == check and operation in e.operations for e in allowed):
                lines.append(f"checks.{check}.enabled = false")
        lines.append("")
    return "\n".join(lines)


def _document() -> Path | None:
    """The document's path, or None (and a message) where it is absent; exits 1 under CI."""
    if DOCUMENT.is_file():
        return DOCUMENT
    message = (
        f"conformance: Spectron's OpenAPI document is not at {DOCUMENT}: the run needs the "
        "shared/ folder beside this checkout"
    )
    if os.environ.get("CI", "").lower() == "true":
        sys.exit(message + " (CI=true: required)")
    print(message + "; skipped")
    return None


def _start_server() -> tuple[subprocess.Popen[str], str]:
    """``serve`` on a free port, and the URL its first stdout line names."""
    server = subprocess.Popen(
        [sys.executable, "-m", "pytest_spectron", "serve", "--port", "0", "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("http://"):
        server.kill()
        sys.exit(f"conformance: serve did not print its URL first, but {url!r}")
    return server, url


def main(argv: list[str] | None = None) -> int:
    """Run schemathesis against the fake; schemathesis's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="cases per operation")
    parser.add_argument("--seed", type=int, default=SEED)
    arguments = parser.parse_args(argv)
    document = _document()
    if document is None:
        return 0
    server, url = _start_server()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Path(folder) / "schemathesis.toml"
            settings.write_text(config())
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file", str(settings), "--no-color",
                "run", str(document), "--url", url, "-H", f"Authorization: Bearer {API_KEY}",
                "--phases", "examples,coverage,fuzzing",
                "--seed", str(arguments.seed), "--max-examples", str(arguments.examples),
                "--workers", "2",
            ]  # fmt: skip
            print("conformance:", " ".join(command), flush=True)
            return subprocess.run(command, cwd=folder, check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=STARTUP_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
