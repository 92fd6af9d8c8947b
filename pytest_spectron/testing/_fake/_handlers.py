"""One handler per catalogue operation: each reads the call and the context's state, and answers.

Handlers return wire-shaped JSON (the document's field names); ``FakeSpectron`` validates every
answer against the operation's response model, so a handler cannot drift from the models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_spectron.client import models as m
from pytest_spectron.testing._fake._state import (
    Context,
    StoredDocument,
    StoredFact,
    StoredKey,
    StoredSession,
    StoredTrace,
    StoredTurn,
    score,
    tokens,
)

if TYPE_CHECKING:
    from pytest_spectron.testing._fake._fake import FakeSpectron

PRINCIPAL_ID = "user-1"
"""The principal every accepted key acts as."""

__all__ = ["HANDLERS", "Answer", "Call", "Problem"]

CHUNK_SIZE = 200
"""Characters per document chunk."""


class Problem(Exception):
    """An error answer: the status and the problem's detail."""

    def __init__(self, status: int, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extensions = extensions


@dataclass
class Call:
    """One routed request, with its body already validated against the request model."""

    fake: FakeSpectron
    context: Context
    context_id: str
    path: dict[str, str]
    query: dict[str, str]
    body: Any = None
    """The request model instance (JSON bodies and upload metadata), or None."""
    upload: tuple[str, bytes, str] | None = None
    """(filename, bytes, MIME type) of an uploaded file."""
    principal: str = PRINCIPAL_ID
    headers: dict[str, str] = field(default_factory=dict)

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        """A query parameter as an int; a 422 problem if it is not one."""
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Problem(
                422, f"query parameter {name!r} must be an integer, got {raw!r}"
            ) from None
        if value < minimum:
            raise Problem(422, f"query parameter {name!r} must be {minimum} or more, got {value}")
        return value


@dataclass(frozen=True)
class Answer:
    """A successful answer: status and JSON data (None for no body), or raw bytes."""

    status: int = 200
    data: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    events: tuple[str, ...] | None = None
    """SSE ``data:`` payloads, for a streamed chat."""


Handler = Callable[[Call], Answer]
HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


def ok(data: Any, status: int = 200) -> Answer:
    return Answer(status, data)


NO_CONTENT = Answer(204)


# -- Building blocks ---------------------------------------------------------------------------


def _session(call: Call, session_id: str | None, scopes: Any = None) -> StoredSession:
    """The named session (404 if unknown), or a new one."""
    if session_id is not None:
        session = call.context.sessions.get(session_id)
        if session is None:
            raise Problem(404, f"session {session_id!r} does not exist")
        return session
    session = StoredSession(call.fake.new_id("sess"), call.fake.now(), scopes=list(scopes or []))
    call.context.sessions[session.id] = session
    return session


def _turn(call: Call, session: StoredSession, role: str, content: str) -> StoredTurn:
    turn = StoredTurn(
        call.fake.new_id("turn"), session.id, role, content, len(session.turns) + 1, call.fake.now()
    )
    session.turns.append(turn)
    return turn


def _remember(
    call: Call, session: StoredSession, text: str, *, role: str = "user", **details: Any
) -> StoredFact:
    turn = _turn(call, session, role, text)
    fact = StoredFact(
        id=call.fake.new_id("fact"),
        text=text,
        session_id=session.id,
        turn_id=turn.id,
        role=role,
        created_at=call.fake.now(),
        **details,
    )
    call.context.facts.append(fact)
    return fact


def _empty_extraction(turn_id: str) -> dict[str, Any]:
    return {
        "turnId": turn_id,
        "entities": [],
        "attributes": [],
        "relations": [],
        "instructions": [],
        "uncertainties": [],
        "corrections": [],
    }


def _extraction(fact: StoredFact) -> dict[str, Any]:
    extraction = _empty_extraction(fact.turn_id)
    if fact.entity is not None and fact.key is not None:
        entity_type, name = fact.entity
        entity_id = _entity_id(entity_type, name)
        extraction["entities"] = [
            {
                "id": entity_id,
                "name": name,
                "entityType": entity_type,
                "memoryCategory": fact.memory_category,
                "isNew": True,
            }
        ]
        extraction["attributes"] = [
            {
                "id": fact.id,
                "entityId": entity_id,
                "key": fact.key,
                "value": fact.value or "",
                "memoryCategory": fact.memory_category,
            }
        ]
    return extraction


def _entity_id(entity_type: str, name: str) -> str:
    return f"{entity_type}/{name}"


def _attribute(fact: StoredFact) -> dict[str, Any]:
    entity_type, name = fact.entity or ("memory", "note")
    return {
        "id": fact.id,
        "entity": _entity_id(entity_type, name),
        "key": fact.key or "note",
        "value": fact.value if fact.value is not None else fact.text,
        "memoryCategory": fact.memory_category,
        "importance": 0.5,
        "createdAt": fact.created_at,
    }


def _entities(context: Context) -> dict[tuple[str, str], list[StoredFact]]:
    """Entities (from triples and notes), each with its facts, oldest first."""
    found: dict[tuple[str, str], list[StoredFact]] = {}
    for fact in context.live_facts():
        if fact.entity is not None:
            found.setdefault(fact.entity, []).append(fact)
    return found


def _entity_detail(entity: tuple[str, str], facts: list[StoredFact]) -> dict[str, Any]:
    entity_type, name = entity
    return {
        "id": _entity_id(entity_type, name),
        "name": name,
        "entityType": entity_type,
        "memoryCategory": facts[0].memory_category,
        "importance": 0.5,
        "createdAt": facts[0].created_at,
        "updatedAt": facts[-1].created_at,
    }


def _trace(call: Call, query: str, retrieved: int, kind: str = "retrieval") -> StoredTrace:
    trace = StoredTrace(call.fake.new_id("trace"), query, call.fake.now(), retrieved, kind)
    call.context.traces.append(trace)
    return trace


def _trace_record(trace: StoredTrace) -> dict[str, Any]:
    return {
        "id": trace.id,
        "queryText": trace.query_text,
        "resolutionTier": "hybrid",
        "tierReason": "lexical match in the fake",
        "latencyMs": 1,
        "cached": False,
        "createdAt": trace.created_at,
    }


def _page(items: list[Any], call: Call) -> tuple[list[Any], dict[str, int]]:
    page = call.integer("page", 1, minimum=1)
    size = call.integer("pageSize", 20, minimum=1)
    start = (page - 1) * size
    return items[start : start + size], {"total": len(items), "page": page, "pageSize": size}


def _hits(
    call: Call, query: str, k: int, labels: list[str], lens: Any = None
) -> list[tuple[float, StoredFact]]:
    facts = [fact for fact in call.context.live_facts() if _in_lens(fact, lens)]
    return call.context.ranked(query, facts, labels)[:k]


def _in_lens(fact: StoredFact, lens: list[list[str]] | None) -> bool:
    """Whether a fact is visible through a scope lens: some clause whose paths all hold it."""
    if not lens:
        return True
    paths = {path for clause in fact.scopes for path in clause}
    return any(
        all(any(held.startswith(path) for held in paths) for path in clause) for clause in lens
    )


# -- Memory verbs ------------------------------------------------------------------------------


@handles("remember")
def remember(call: Call) -> Answer:
    body: m.FactsRequest = call.body
    if not body.text and not body.triples:
        raise Problem(422, "a fact needs text or triples", errors=[{"field": "text"}])
    session = _session(call, body.session_id, body.scopes)
    details = {
        "labels": tuple(body.labels or ()),
        "scopes": tuple(tuple(clause) for clause in body.scopes or ()),
        "memory_category": body.memory_category or "knowledge",
    }
    role = body.role or "user"
    stored: list[StoredFact] = []
    if body.text:
        stored.append(_remember(call, session, body.text, role=role, **details))
    for triple in body.triples or ():
        text = f"{triple.entity.name} {triple.key} {triple.value or ''}".strip()
        entity = (triple.entity.type, triple.entity.name)
        fact = _remember(
            call, session, text, role=role, entity=entity, key=triple.key, value=triple.value,
            **details,
        )  # fmt: skip
        stored.append(fact)
    first = stored[0]
    mode = "triples" if body.triples and not body.text else "full"
    return ok(
        {
            "mode": mode,
            "sessionId": session.id,
            "turnId": first.turn_id,
            "extraction": _extraction(stored[-1]),
        }
    )


@handles("remember_many")
def remember_many(call: Call) -> Answer:
    body: m.FactsBatchRequest = call.body
    session = _session(call, body.session_id, body.scopes)
    facts = [
        _remember(
            call, session, message.content, role=message.role, labels=tuple(body.labels or ())
        )
        for message in body.messages
    ]
    return ok(
        {
            "sessionId": session.id,
            "turnIds": [fact.turn_id for fact in facts],
            "extractions": [_empty_extraction(fact.turn_id) for fact in facts],
        }
    )


@handles("recall")
def recall(call: Call) -> Answer:
    body: m.QueryMemoryRequest = call.body
    k = 10 if body.k is None else body.k
    hits = _hits(call, body.query, k, list(body.labels or ()), body.lens)
    trace = _trace(call, body.query, len(hits))
    return ok(
        {
            "tier": "hybrid",
            "classificationKind": "hybrid",
            "queryMs": 1,
            "seedEntities": [],
            "hits": [
                {"id": fact.id, "text": fact.text, "source": "memory_chunk", "score": value}
                for value, fact in hits
            ],
            "trace": {
                "traceId": trace.id,
                "resolutionTier": "hybrid",
                "tierReason": "lexical match in the fake",
                "latencyMs": 1,
                "retrievedCount": len(hits),
                "topScores": [value for value, _ in hits],
            },
        }
    )


@handles("forget")
def forget(call: Call) -> Answer:
    body: m.ForgetRequest = call.body
    matching = [fact for _, fact in call.context.ranked(body.query, call.context.live_facts())]
    if not body.dry_run:
        for fact in matching:
            fact.deleted = True
        if body.purge:
            call.context.facts = [fact for fact in call.context.facts if not fact.deleted]
    return ok({"deleted": len(matching)})


def chat_reply(call: Call, message: str) -> str:
    """The fake's deterministic answer: the best matching fact, or an admission."""
    hits = _hits(call, message, 1, [])
    if not hits:
        return "I don't remember anything about that."
    return f"Based on what I remember: {hits[0][1].text}"


@handles("chat")
def chat(call: Call) -> Answer:
    body: m.ChatRequest = call.body
    session = _session(call, body.session_id, body.scopes)
    reply = chat_reply(call, body.message)
    user_turn = _turn(call, session, "user", body.message)
    _turn(call, session, "assistant", reply)
    trace = _trace(call, body.message, 1, "response")
    if not body.stream:
        return ok(
            {
                "reply": reply,
                "memoryUpdates": _empty_extraction(user_turn.id),
                "traceId": trace.id,
                "sessionId": session.id,
            }
        )
    words = reply.split(" ")
    deltas = [word if index == 0 else " " + word for index, word in enumerate(words)]
    frames = [
        {"delta": delta, "done": index == len(deltas) - 1, "traceId": trace.id,
         "sessionId": session.id}
        for index, delta in enumerate(deltas)
    ]  # fmt: skip
    import json

    return Answer(
        content_type="text/event-stream",
        events=(*(json.dumps(frame) for frame in frames), "[DONE]"),
    )


@handles("consolidate")
def consolidate(call: Call) -> Answer:
    body: m.ConsolidateRequest = call.body
    outcomes = [
        {
            "kind": "create",
            "entityName": name,
            "key": facts[-1].key or "note",
            "value": facts[-1].value or facts[-1].text,
            "proofCount": len(facts),
        }
        for (_, name), facts in _entities(call.context).items()
    ]
    return ok(
        {
            "traceId": _trace(call, "consolidate", len(outcomes), "decision").id,
            "created": 0 if body.dry_run else len(outcomes),
            "updated": 0,
            "superseded": 0,
            "dryRun": bool(body.dry_run),
            "outcomes": outcomes,
        }
    )


@handles("reflect")
def reflect(call: Call) -> Answer:
    body: m.ReflectRequest = call.body
    hits = _hits(call, body.query, 3, [])
    evidence = [fact.text for _, fact in hits]
    reflection = "; ".join(evidence) if evidence else "Nothing in memory bears on that."
    return ok(
        {
            "reflection": reflection,
            "evidence": evidence,
            "persistedAttributes": [],
            "traceId": _trace(call, body.query, len(hits), "decision").id,
        }
    )


@handles("elaborate")
def elaborate(call: Call) -> Answer:
    body: m.ElaborateRequest = call.body
    trace = _trace(call, "elaborate", 0, "decision")
    outcomes = [
        {
            "entityType": entity_type,
            "entityName": name,
            "traceId": trace.id,
            "relationsEmitted": 0,
            "proposedRelations": [],
            "dryRun": bool(body.dry_run),
        }
        for entity_type, name in _entities(call.context)
        if body.entity_ref in (None, _entity_id(entity_type, name))
    ]
    return ok({"relationsEmitted": 0, "outcomes": outcomes})


@handles("query_context")
def query_context(call: Call) -> Answer:
    body: m.ContextQueryRequest = call.body
    k = 10 if body.k is None else body.k
    hits = _hits(call, body.query, k, list(body.labels or ()), body.lens)
    _trace(call, body.query, len(hits))
    context = "\n".join(f"- {fact.text}" for _, fact in hits)
    return ok({"context": context, "tier": "hybrid", "queryMs": 1})


@handles("fsck")
def fsck(call: Call) -> Answer:
    seen: dict[str, StoredFact] = {}
    duplicates = []
    for fact in call.context.live_facts():
        twin = seen.setdefault(" ".join(tokens(fact.text)), fact)
        if twin is not fact:
            duplicates.append({"entityA": twin.id, "entityB": fact.id, "similarity": 1.0})
    contradictions = [
        {"entity": _entity_id(*entity), "key": key, "values": values}
        for entity, facts in _entities(call.context).items()
        for key in {fact.key for fact in facts if fact.key}
        if len(values := sorted({f.value or "" for f in facts if f.key == key})) > 1
    ]
    total = len(duplicates) + len(contradictions)
    return ok(
        {
            "duplicates": duplicates,
            "contradictions": contradictions,
            "injection": [],
            "unscopedContent": [],
            "total": total,
        }
    )


@handles("inspect")
def inspect(call: Call) -> Answer:
    ref = call.query.get("ref", "")
    for trace in call.context.traces:
        if trace.id == ref:
            return ok({"kind": "trace", "trace": _trace_record(trace)})
    entity_type, _, name = ref.partition("/")
    facts = _entities(call.context).get((entity_type, name))
    if not facts:
        raise Problem(
            404, f"nothing to inspect at {ref!r}: use an entity 'type/name' or a trace id"
        )
    return ok(
        {
            "kind": "entity",
            "entity": _entity_detail((entity_type, name), facts),
            "attributes": [_attribute(fact) for fact in facts],
            "relations": [],
        }
    )


def _category(facts: list[StoredFact], category: str) -> dict[str, Any]:
    chosen = [fact for fact in facts if fact.memory_category == category]
    entities = {fact.entity: fact for fact in chosen if fact.entity}
    return {
        "entities": [_entity_detail(entity, [fact]) for entity, fact in entities.items() if entity],
        "attributes": [_attribute(fact) for fact in chosen],
        "relations": [],
    }


@handles("state")
def state(call: Call) -> Answer:
    facts = call.context.live_facts()
    return ok(
        {
            "identity": _category(facts, "identity"),
            "knowledge": _category(facts, "knowledge"),
            "context": _category(facts, "context"),
            "instructions": [],
            "unknowns": [],
        }
    )


@handles("whoami")
def whoami(call: Call) -> Answer:
    grants = call.fake.grants_of(call.headers.get("authorization", ""))
    return ok(
        {
            "principalId": call.principal,
            "kind": "user",
            "displayName": "Test user",
            "grants": grants,
            "effectiveGrants": grants,
        }
    )


@handles("profile")
def profile(call: Call) -> Answer:
    entries = [
        {"key": fact.key or "note", "value": fact.value if fact.value is not None else fact.text}
        for fact in call.context.live_facts()
    ]
    static = [entry for entry in entries if entry["key"] != "note"]
    return ok({"static": static, "dynamic": entries, "preferences": [], "instructions": []})


@handles("audit")
def audit(call: Call) -> Answer:
    limit = call.integer("limit", 100, minimum=1)
    kind = call.query.get("kind")
    rows = [row for row in reversed(call.context.audit) if kind in (None, row["kind"])]
    return ok({"rows": rows[:limit]})


@handles("health")
def health(call: Call) -> Answer:
    return ok({"status": "ok"})


# -- Documents ---------------------------------------------------------------------------------


def _document(call: Call) -> StoredDocument:
    document = call.context.documents.get(call.path["id"])
    if document is None:
        raise Problem(404, f"document {call.path['id']!r} does not exist")
    return document


def _document_json(document: StoredDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "title": document.title,
        "mimeType": document.mime_type,
        "source": document.source,
        "contentHash": document.content_hash,
        "sizeBytes": len(document.content),
        "version": document.version,
        "status": "ready",
        "createdAt": document.created_at,
        "updatedAt": document.updated_at,
    }


def _chunks(document: StoredDocument) -> list[dict[str, Any]]:
    text = document.text
    return [
        {
            "id": f"{document.id}-chunk-{index + 1}",
            "document": document.id,
            "position": index,
            "charStart": start,
            "charEnd": min(start + CHUNK_SIZE, len(text)),
            "text": text[start : start + CHUNK_SIZE],
        }
        for index, start in enumerate(range(0, len(text), CHUNK_SIZE))
    ]


def _upload(call: Call, document: StoredDocument | None) -> Answer:
    metadata: m.UploadMetadata = call.body
    if call.upload is None:
        raise Problem(422, "the upload has no 'file' part", errors=[{"field": "file"}])
    filename, content, part_type = call.upload
    content_hash = hashlib.sha256(content).hexdigest()
    if document is None:
        for existing in call.context.documents.values():
            if existing.content_hash == content_hash:
                return ok({"id": existing.id, "status": "ready", "contentHash": content_hash,
                           "deduplicated": True}, 202)  # fmt: skip
        now = call.fake.now()
        document = StoredDocument(
            id=call.fake.new_id("doc"),
            title=metadata.title or filename,
            mime_type=metadata.mime_type or part_type,
            source=metadata.source or filename,
            content=content,
            content_hash=content_hash,
            created_at=now,
            updated_at=now,
            labels=tuple(metadata.labels or ()),
            scopes=tuple(tuple(clause) for clause in metadata.scopes or ()),
        )
        call.context.documents[document.id] = document
    else:
        document.content, document.content_hash = content, content_hash
        document.version += 1
        document.updated_at = call.fake.now()
        document.title = metadata.title or document.title
        document.mime_type = metadata.mime_type or part_type
    return ok(
        {"id": document.id, "status": "ready", "contentHash": content_hash, "deduplicated": False},
        202,
    )


@handles("documents.upload")
def documents_upload(call: Call) -> Answer:
    return _upload(call, None)


@handles("documents.reprocess")
def documents_reprocess(call: Call) -> Answer:
    return _upload(call, _document(call))


@handles("documents.list")
def documents_list(call: Call) -> Answer:
    documents = [
        document
        for document in call.context.documents.values()
        if call.query.get("mimeType") in (None, document.mime_type)
        and call.query.get("status") in (None, "ready")
    ]
    shown, page = _page(documents, call)
    return ok({"documents": [_document_json(document) for document in shown], **page})


@handles("documents.get")
def documents_get(call: Call) -> Answer:
    return ok(_document_json(_document(call)))


@handles("documents.delete")
def documents_delete(call: Call) -> Answer:
    del call.context.documents[_document(call).id]
    return NO_CONTENT


@handles("documents.fetch_raw")
def documents_fetch_raw(call: Call) -> Answer:
    document = _document(call)
    return Answer(raw=document.content, content_type=document.mime_type)


@handles("documents.chunks")
def documents_chunks(call: Call) -> Answer:
    shown, page = _page(_chunks(_document(call)), call)
    return ok({"chunks": shown, **page})


def _keywords(documents: list[StoredDocument]) -> dict[str, list[StoredDocument]]:
    found: dict[str, list[StoredDocument]] = {}
    for document in documents:
        for word in sorted(set(tokens(document.text))):
            if len(word) > 3:
                found.setdefault(word, []).append(document)
    return found


def _keyword_json(word: str, documents: list[StoredDocument]) -> dict[str, Any]:
    return {"id": f"kw-{word}", "text": word, "normalised": word, "documentCount": len(documents)}


@handles("documents.document_keywords")
def documents_document_keywords(call: Call) -> Answer:
    document = _document(call)
    words = _keywords([document])
    keywords = [
        {"id": f"kw-{word}", "text": word, "normalised": word, "score": 1.0} for word in words
    ]
    return ok({"keywords": keywords})


@handles("documents.keywords")
def documents_keywords(call: Call) -> Answer:
    words = _keywords(list(call.context.documents.values()))
    minimum = call.integer("minDocumentCount", 1)
    prefix = call.query.get("q", "")
    listed = [
        _keyword_json(word, documents)
        for word, documents in sorted(words.items())
        if word.startswith(prefix.lower()) and len(documents) >= minimum
    ]
    shown, page = _page(listed, call)
    return ok({"keywords": shown, **page})


@handles("documents.keyword")
def documents_keyword(call: Call) -> Answer:
    word = call.path["normalised"]
    documents = _keywords(list(call.context.documents.values())).get(word)
    if not documents:
        raise Problem(404, f"keyword {word!r} does not exist")
    return ok(
        {
            **_keyword_json(word, documents),
            "documents": [{"id": d.id, "title": d.title, "score": 1.0} for d in documents],
        }
    )


@handles("documents.search_keywords")
def documents_search_keywords(call: Call) -> Answer:
    body: m.KeywordSearchRequest = call.body
    words = _keywords(list(call.context.documents.values()))
    asked = set(tokens(body.query))
    results = [
        {**_keyword_json(word, documents), "score": 1.0}
        for word, documents in sorted(words.items())
        if word in asked
    ]
    return ok({"results": results[: body.k or 10], "queryMs": 1})


@handles("documents.query")
def documents_query(call: Call) -> Answer:
    body: m.QueryRequest = call.body
    results: list[tuple[float, dict[str, Any]]] = []
    for document in call.context.documents.values():
        for chunk in _chunks(document):
            value = score(body.query, chunk["text"])
            if value > 0:
                hit_document = {
                    "id": document.id,
                    "title": document.title,
                    "source": document.source,
                }
                hit = {"chunk": chunk, "document": hit_document, "score": value}
                results.append((value, hit))
    results.sort(key=lambda pair: -pair[0])
    return ok({"results": [hit for _, hit in results[: body.k or 10]], "queryMs": 1})


@handles("documents.recompute_links")
def documents_recompute_links(call: Call) -> Answer:
    return ok({"linksEmitted": len(call.context.documents)})


# -- Sessions ----------------------------------------------------------------------------------


@handles("sessions.create")
def sessions_create(call: Call) -> Answer:
    body: m.CreateSessionRequest = call.body
    session = _session(call, None, body.scopes)
    session.metadata = body.metadata
    return ok({"id": session.id, "scopes": session.scopes, "createdAt": session.created_at}, 201)


@handles("sessions.delete")
def sessions_delete(call: Call) -> Answer:
    session = _session(call, call.path["session_id"])
    del call.context.sessions[session.id]
    return NO_CONTENT


@handles("sessions.turns")
def sessions_turns(call: Call) -> Answer:
    session = _session(call, call.path["session_id"])
    offset = call.integer("offset", 0)
    limit = call.integer("limit", 100, minimum=1)
    turns = [
        {"id": t.id, "session": t.session_id, "role": t.role, "content": t.content, "seq": t.seq,
         "createdAt": t.created_at}
        for t in session.turns[offset : offset + limit]
    ]  # fmt: skip
    return ok({"turns": turns})


@handles("sessions.context")
def sessions_context(call: Call) -> Answer:
    body: m.SessionContextRequest = call.body
    session = _session(call, call.path["session_id"])
    ranked = sorted(
        ((score(body.query, turn.content), turn) for turn in session.turns),
        key=lambda pair: -pair[0],
    )
    return ok({"context": "\n".join(f"{t.role}: {t.content}" for value, t in ranked if value > 0)})


# -- Entities ----------------------------------------------------------------------------------


def _entity_facts(call: Call) -> tuple[tuple[str, str], list[StoredFact]]:
    entity = (call.path["entity_type"], call.path["entity_name"])
    facts = _entities(call.context).get(entity)
    if not facts:
        raise Problem(404, f"entity {_entity_id(*entity)!r} does not exist")
    return entity, facts


@handles("entities.list")
def entities_list(call: Call) -> Answer:
    wanted = call.query.get("type")
    listed = [
        _entity_detail(entity, facts)
        for entity, facts in _entities(call.context).items()
        if wanted in (None, entity[0])
    ]
    offset = call.integer("offset", 0)
    limit = call.integer("limit", 100, minimum=1)
    return ok({"entities": listed[offset : offset + limit]})


@handles("entities.get")
def entities_get(call: Call) -> Answer:
    entity, facts = _entity_facts(call)
    latest = {fact.key: fact for fact in facts}
    return ok(
        {
            "entity": _entity_detail(entity, facts),
            "attributes": [_attribute(fact) for fact in latest.values()],
            "relations": [],
        }
    )


@handles("entities.delete")
def entities_delete(call: Call) -> Answer:
    entity = (call.path["entity_type"], call.path["entity_name"])
    for fact in call.context.live_facts():
        if fact.entity == entity:
            fact.deleted = True
    return NO_CONTENT


@handles("entities.history")
def entities_history(call: Call) -> Answer:
    _, facts = _entity_facts(call)
    history = [_attribute(fact) for fact in reversed(facts) if fact.key == call.path["key"]]
    return ok({"history": history})


# -- Scopes and principals ---------------------------------------------------------------------


def _scope_json(path: str, created_at: str) -> dict[str, Any]:
    return {"path": path, "createdAt": created_at}


@handles("scopes.list")
def scopes_list(call: Call) -> Answer:
    return ok([_scope_json(path, created) for path, created in call.context.scopes.items()])


@handles("scopes.register")
def scopes_register(call: Call) -> Answer:
    body: m.RegisterScopeRequest = call.body
    path = body.path if body.path.endswith("/") else body.path + "/"
    created = call.context.scopes.setdefault(path, call.fake.now())
    return ok(_scope_json(path, created), 201)


@handles("scopes.delete")
def scopes_delete(call: Call) -> Answer:
    path = call.query.get("path")
    if not path:
        raise Problem(400, "the 'path' query parameter is required")
    normal = path if path.endswith("/") else path + "/"
    if call.context.scopes.pop(normal, None) is None:
        raise Problem(400, f"scope {path!r} is not registered")
    return NO_CONTENT


@handles("scopes.forget")
def scopes_forget(call: Call) -> Answer:
    body: m.ScopeForgetRequest = call.body
    prefix = body.path or ""
    forgotten = 0
    for fact in call.context.live_facts():
        if any(path.startswith(prefix) for clause in fact.scopes for path in clause):
            fact.deleted = True
            forgotten += 1
    return ok({"forgotten": forgotten})


@handles("scopes.grant")
def scopes_grant(call: Call) -> Answer:
    raise Problem(501, "scope grants are not implemented by Spectron yet")


def _principal(call: Call) -> tuple[str, dict[str, list[str]]]:
    principal_id = call.path["principal_id"]
    known = call.context.principals
    if principal_id not in known and principal_id != call.principal:
        raise Problem(404, f"principal {principal_id!r} does not exist")
    return principal_id, known.setdefault(principal_id, {})


def _principal_json(principal_id: str, grants: dict[str, list[str]]) -> dict[str, Any]:
    return {"id": principal_id, "kind": "user", "displayName": principal_id, "grants": grants}


@handles("principals.list")
def principals_list(call: Call) -> Answer:
    call.context.principals.setdefault(call.principal, {})
    return ok([_principal_json(pid, grants) for pid, grants in call.context.principals.items()])


@handles("principals.get")
def principals_get(call: Call) -> Answer:
    return ok(_principal_json(*_principal(call)))


@handles("principals.effective")
def principals_effective(call: Call) -> Answer:
    _, grants = _principal(call)
    path = call.query.get("path", "")
    verbs = sorted(
        verb
        for verb, patterns in grants.items()
        if any(path.startswith(pattern.rstrip("*")) for pattern in patterns)
    )
    return ok({"path": path, "verbs": verbs})


@handles("principals.grant")
def principals_grant(call: Call) -> Answer:
    body: m.GrantRequest = call.body
    principal_id, grants = _principal(call)
    for verb in body.verbs:
        patterns = grants.setdefault(verb, [])
        if body.path not in patterns:
            patterns.append(body.path)
    return ok(_principal_json(principal_id, grants))


@handles("principals.revoke")
def principals_revoke(call: Call) -> Answer:
    body: m.GrantRequest = call.body
    principal_id, grants = _principal(call)
    for verb in body.verbs:
        patterns = [pattern for pattern in grants.get(verb, []) if pattern != body.path]
        if patterns:
            grants[verb] = patterns
        else:
            grants.pop(verb, None)
    return ok(_principal_json(principal_id, grants))


# -- Keys --------------------------------------------------------------------------------------


def _key_json(key: StoredKey) -> dict[str, Any]:
    data: dict[str, Any] = {"id": key.id, "name": key.name, "createdAt": key.created_at}
    if key.grants is not None:
        data["grants"] = key.grants
    return data


def _minted(call: Call, key: StoredKey) -> Answer:
    ttl = call.integer("ttlSeconds", 0) if "ttlSeconds" in call.query else None
    key.valid_until = call.fake.now(offset=ttl) if ttl else None
    data: dict[str, Any] = {"id": key.id, "key": key.secret}
    if key.valid_until:
        data["validUntil"] = key.valid_until
    return ok(data)


@handles("keys.list")
def keys_list(call: Call) -> Answer:
    return ok([_key_json(key) for key in call.context.keys.values()])


@handles("keys.create")
def keys_create(call: Call) -> Answer:
    body: m.MintKeyBody = call.body
    key_id = call.fake.new_id("key")
    name = body.name or key_id
    if name in call.context.keys:
        raise Problem(409, f"a key named {name!r} already exists")
    key = StoredKey(key_id, name, call.fake.mint_secret(body.grants), call.fake.now(), body.grants)
    call.context.keys[name] = key
    answer = _minted(call, key)
    return Answer(201, answer.data)


def _key(call: Call) -> StoredKey:
    key = call.context.keys.get(call.path["key_name"])
    if key is None:
        raise Problem(404, f"key {call.path['key_name']!r} does not exist")
    return key


@handles("keys.delete")
def keys_delete(call: Call) -> Answer:
    key = _key(call)
    call.fake.revoke_secret(key.secret)
    del call.context.keys[key.name]
    return NO_CONTENT


@handles("keys.rotate")
def keys_rotate(call: Call) -> Answer:
    key = _key(call)
    call.fake.revoke_secret(key.secret)
    key.secret = call.fake.mint_secret(key.grants)
    return _minted(call, key)


# -- Traces and lifecycle ----------------------------------------------------------------------


@handles("traces.list")
def traces_list(call: Call) -> Answer:
    limit = call.integer("limit", 50, minimum=1)
    newest = list(reversed(call.context.traces))[:limit]
    return ok({"traces": [_trace_record(trace) for trace in newest]})


@handles("traces.get")
def traces_get(call: Call) -> Answer:
    for trace in call.context.traces:
        if trace.id == call.path["trace_id"]:
            return ok(_trace_record(trace))
    raise Problem(404, f"trace {call.path['trace_id']!r} does not exist")


@handles("traces.stats")
def traces_stats(call: Call) -> Answer:
    traces = call.context.traces
    responses = [trace for trace in traces if trace.kind == "response"]
    retrievals = [trace for trace in traces if trace.kind == "retrieval"]
    largest = max((trace.retrieved for trace in retrievals), default=0)
    average = sum(trace.retrieved for trace in retrievals) / len(retrievals) if retrievals else 0.0
    return ok(
        {
            "totalQueries": len(retrievals),
            "cacheHits": 0,
            "avgLatencyMs": 1.0 if traces else 0.0,
            "tierCounts": {"direct": 0, "hybrid": len(retrievals), "fullContext": 0},
            "responseTracesTotal": len(responses),
            "responseTracesCached": 0,
            "cacheHitRate": 0.0,
            "windowHours": 24,
            "sourceKindDistribution": [{"kind": "memory_chunk", "count": len(retrievals)}],
            "contradiction": {"reconciliations": 0, "contradictions": 0, "contradictionRate": 0.0},
            "supersession": {"supersessionEvents": 0, "entitiesChurned": 0, "churnPerEntity": 0.0},
            "retrieval": {
                "traces": len(retrievals),
                "avgCandidateSet": average,
                "maxCandidateSet": largest,
            },
        }
    )


@handles("lifecycle.decay")
def lifecycle_decay(call: Call) -> Answer:
    return ok({"affected": len(call.context.live_facts())})


@handles("lifecycle.expire")
def lifecycle_expire(call: Call) -> Answer:
    return ok({"affected": 0})
