"""Grants gate every read: a key sees, counts and forgets only the rows of its own region.

Facts, documents (and the passages recall cuts from them), sessions, relations and traces alike:
a row outside the key's region is missing to it, a 404 by id and absent from every listing and
search.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_spectron import (
    FakeSpectron,
    Spectron,
    SpectronNotFoundError,
    SpectronScopeError,
    SpectronValidationError,
)
from pytest_spectron.client.models import RelationDetail, Triple, TripleEntity

ClientWith = Callable[..., Spectron]

TEAM_A_READER = {"memory:read": ["team/a/*"], "memory:write": ["team/a/*"]}
TEAM_A_FORGETTER = {"memory:forget": ["team/a/*"]}
TEAM_B_READER = {"memory:read": ["team/b/*"], "memory:write": ["team/b/*"]}
ALICE = TripleEntity(type="person", name="alice")
BOB = TripleEntity(type="person", name="bob")
ACME = TripleEntity(type="org", name="acme")
GLOBEX = TripleEntity(type="org", name="globex")


@pytest.fixture
def admin(fake: FakeSpectron, client_with: ClientWith) -> Spectron:
    """A client holding every grant, beside a ``reader-a`` key confined to ``team/a``."""
    fake.set_api_keys({"admin": None, "reader-a": TEAM_A_READER})
    admin = client_with("admin")
    admin.remember("the deploy window for team a is friday", scopes="team/a")
    admin.remember("the deploy window for team b is monday", scopes="team/b")
    return admin


def test_recall_returns_only_the_keys_region(admin: Spectron, client_with: ClientWith) -> None:
    """A team/a key never recalls team/b's facts.

    The document (``QueryMemoryRequestJson.lens``): "permission gating from the caller's grants
    always applies".
    """
    hits = client_with("reader-a").recall("deploy window", k=10).hits

    assert [hit.text for hit in hits] == ["the deploy window for team a is friday"]
    assert len(admin.recall("deploy window", k=10).hits) == 2


def test_query_context_holds_only_the_keys_region(admin: Spectron, client_with: ClientWith) -> None:
    """``query_context`` builds its context from the key's region alone.

    The document (``ContextQueryRequestJson.lens``): "Empty = the whole granted region."
    """
    context = client_with("reader-a").query_context("deploy window").context

    assert context == "- the deploy window for team a is friday"


def test_chat_retrieves_only_from_the_keys_region(admin: Spectron, client_with: ClientWith) -> None:
    """A chat's reply draws on the key's region: the team/b fact is never quoted.

    The document (``WhoamiJson.effectiveGrants``): "This is what gates every read/write".
    """
    reply = client_with("reader-a").chat("deploy window for team b").reply

    assert reply == "Based on what I remember: the deploy window for team a is friday"


def test_state_and_profile_show_only_the_keys_region(
    admin: Spectron, client_with: ClientWith
) -> None:
    """``state`` and ``profile`` list only the notes the key may read.

    The document (``WhoamiJson.effectiveGrants``): "This is what gates every read/write".
    """
    reader = client_with("reader-a")

    state = reader.state()
    profile = reader.profile()

    assert [a.value for a in state.knowledge.attributes] == [
        "the deploy window for team a is friday"
    ]
    assert [entry.value for entry in profile.dynamic] == ["the deploy window for team a is friday"]


def test_an_unscoped_write_is_filed_in_the_writers_region(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key reads back its own unscoped write, and never the admin's unscoped one.

    The document (``FactsRequestJson.scopes``): "Empty = the caller's default write region."
    """
    reader = client_with("reader-a")
    reader.remember("the team a retro is on thursday")
    admin.remember("the company retro is in june")

    assert [hit.text for hit in reader.recall("retro").hits] == ["the team a retro is on thursday"]
    assert len(admin.recall("retro").hits) == 2


def test_forget_dry_run_counts_only_the_keys_region(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a key's dry run counts team/a's facts alone, and its forget deletes only those.

    The document (``ForgetRequestJson.dryRun``): "the handler computes and returns the would-be
    deletion count (``deleted``)"; (``WhoamiJson.effectiveGrants``) "This is what gates every
    read/write".
    """
    fake.set_api_keys({"admin": None, "forget-a": {"memory:forget": ["team/a/*"]}})
    forgetter = client_with("forget-a")

    assert forgetter.forget("deploy window", dry_run=True).deleted == 1
    assert forgetter.forget("deploy window").deleted == 1
    assert [fact.text for fact in fake.facts("ctx")] == ["the deploy window for team b is monday"]


def test_a_lens_outside_the_region_gives_empty_results(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A lens on team/b from a team/a key answers no hits (200), never a 403.

    The document (``QueryMemoryRequestJson.lens``): "The lens can only narrow — permission
    gating from the caller's grants always applies on top, so an out-of-region lens yields
    empty results, never a 403."
    """
    reader = client_with("reader-a")

    assert reader.recall("deploy window", lens="team/b").hits == []
    assert reader.query_context("deploy window", lens="team/b").context == ""
    assert [hit.text for hit in reader.recall("deploy window", lens="team/a").hits] == [
        "the deploy window for team a is friday"
    ]


# -- Documents and their passages ---------------------------------------------------------------


@pytest.fixture
def documents(admin: Spectron, fake: FakeSpectron) -> dict[str, str]:
    """A ready document tagged team/a and one tagged team/b, both about the deploys: their ids."""
    return {
        "a": fake.add_document("ctx", b"team a deploys on friday", title="a.txt", scopes="team/a"),
        "b": fake.add_document("ctx", b"team b deploys on monday", title="b.txt", scopes="team/b"),
    }


def test_documents_list_shows_only_the_keys_region(
    documents: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key lists team/a's document alone, and counts only it.

    The document (``UploadMetadataJson.scopes``): "Optional DNF scope selector tagging the
    document"; (``QueryMemoryRequestJson.lens``) "permission gating from the caller's grants
    always applies".
    """
    page = client_with("reader-a").documents.list()

    assert ([document.id for document in page.documents], page.total) == ([documents["a"]], 1)


def test_a_document_outside_the_region_is_not_found(
    documents: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key gets a 404 for team/b's document, its bytes and its keywords.

    The document (``get_document``): 404 "Document not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    reader = client_with("reader-a")

    for read in (
        reader.documents.get,
        reader.documents.fetch_raw,
        reader.documents.document_keywords,
    ):
        with pytest.raises(SpectronNotFoundError):
            read(documents["b"])
    assert reader.documents.get(documents["a"]).title == "a.txt"
    assert reader.documents.fetch_raw(documents["a"]) == b"team a deploys on friday"


def test_chunks_of_a_document_outside_the_region_are_not_found(
    documents: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key gets a 404 for the chunks of team/b's document, and team/a's chunks.

    The document (``list_chunks``): 404 "Document not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronNotFoundError):
        reader.documents.chunks(documents["b"])
    assert [chunk.text for chunk in reader.documents.chunks(documents["a"]).chunks] == [
        "team a deploys on friday"
    ]


def test_documents_query_and_keywords_search_only_the_keys_region(
    documents: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key's query and keywords find team/a's document, never team/b's.

    The document (``query_documents``): "Runs a top-k semantic query over the Layer 0
    chunks"; (``WhoamiJson.effectiveGrants``) "This is what gates every read/write".
    """
    reader = client_with("reader-a")

    results = reader.documents.query("deploys", k=10).results
    keyword = reader.documents.keyword("deploys")
    with pytest.raises(SpectronNotFoundError):
        reader.documents.keyword("monday")

    assert [result.document.id for result in results] == [documents["a"]]
    assert [document.id for document in keyword.documents] == [documents["a"]]
    assert [hit.document_count for hit in reader.documents.search_keywords("deploys").results] == [
        1
    ]


def test_deleting_a_document_outside_the_region_is_not_found(
    documents: dict[str, str], fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a forget key gets a 404 deleting team/b's document, which stays; team/a's goes.

    The document (``delete_document``): 404 "Document not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    fake.set_api_keys({"admin": None, "forget-a": TEAM_A_FORGETTER})
    forgetter = client_with("forget-a")

    with pytest.raises(SpectronNotFoundError):
        forgetter.documents.delete(documents["b"])
    forgetter.documents.delete(documents["a"])

    assert [document.id for document in fake.documents("ctx")] == [documents["b"]]


def test_reprocessing_a_document_outside_the_region_is_not_found(
    documents: dict[str, str], fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a key gets a 404 replacing team/b's document, which keeps its bytes.

    The document (``reprocess_document``): 404 "Document not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronNotFoundError):
        reader.documents.reprocess(documents["b"], b"team a overwrites", filename="b.txt")
    assert reader.documents.reprocess(documents["a"], b"team a rewrites", filename="a.txt")

    assert [document.content for document in fake.documents("ctx")] == [
        b"team a rewrites",
        b"team b deploys on monday",
    ]


def test_recall_passages_come_only_from_the_keys_region(
    documents: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key's recall quotes team/a's document passages, never team/b's.

    The document (``QueryMemoryRequestJson.include``): 'Defaults to ["facts", "passages"]
    (both)'; (``QueryMemoryRequestJson.lens``) "permission gating from the caller's grants
    always applies on top".
    """
    reader = client_with("reader-a")

    passages = reader.recall("deploys", include=["passages"], k=10).hits
    both = reader.recall("deploys friday monday", k=10).hits

    assert [(hit.source, hit.text) for hit in passages] == [("chunk", "team a deploys on friday")]
    assert "team b deploys on monday" not in [hit.text for hit in both]


def test_an_unscoped_upload_is_filed_in_the_uploaders_region(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a key reads back its own unscoped upload, and gets a 404 for the admin's.

    The document (``UploadMetadataJson.scopes``): "Omitted ⇒ the document inherits the
    caller's whole write region".
    """
    fake.processing_seconds = 0
    reader = client_with("reader-a")
    own = reader.documents.upload(b"team a runbook", filename="runbook.txt")
    other = admin.documents.upload(b"company handbook", filename="handbook.txt")

    assert [document.id for document in reader.documents.list().documents] == [own.id]
    with pytest.raises(SpectronNotFoundError):
        reader.documents.get(other.id)
    assert admin.documents.list().total == 2


# -- Sessions ----------------------------------------------------------------------------------


@pytest.fixture
def sessions(admin: Spectron, fake: FakeSpectron) -> dict[str, str]:
    """The sessions the admin's team/a and team/b facts were remembered in: their ids."""
    opened = {session.scopes: session.id for session in fake.sessions("ctx")}
    return {"a": opened[(("team/a",),)], "b": opened[(("team/b",),)]}


def test_turns_of_a_session_outside_the_region_are_not_found(
    sessions: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key gets a 404 for the turns of team/b's session, and team/a's turns.

    The document (``list_turns``): 404 "Session not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronNotFoundError):
        reader.sessions.turns(sessions["b"])
    assert [turn.content for turn in reader.sessions.turns(sessions["a"]).turns] == [
        "the deploy window for team a is friday"
    ]


def test_context_of_a_session_outside_the_region_is_empty(
    sessions: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key draws no context from team/b's session: as an unknown one, it has none.

    The document lists no 404 for ``get_session_context``; (``WhoamiJson.effectiveGrants``)
    "This is what gates every read/write".
    """
    reader = client_with("reader-a")

    assert reader.sessions.context(sessions["b"], "deploy window").context == ""
    assert reader.sessions.context(sessions["a"], "deploy window").context == (
        "user: the deploy window for team a is friday"
    )


def test_deleting_a_session_outside_the_region_is_not_found(
    sessions: dict[str, str], fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a forget key gets a 404 deleting team/b's session, which stays; team/a's goes.

    The document (``delete_session``): 404 "Session not found"; the official SDK
    (``MemoryNotFoundError``): "404 — addressed entity / document / session does not exist."
    """
    fake.set_api_keys({"admin": None, "forget-a": TEAM_A_FORGETTER})
    forgetter = client_with("forget-a")

    with pytest.raises(SpectronNotFoundError):
        forgetter.sessions.delete(sessions["b"])
    forgetter.sessions.delete(sessions["a"])

    assert [session.id for session in fake.sessions("ctx")] == [sessions["b"]]


def test_a_session_outside_the_region_is_unknown_to_writes_and_recall(
    sessions: dict[str, str], fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a key cannot add a turn to team/b's session, nor recall with it: a 400, nothing
    written.

    The official SDK (``MemoryNotFoundError``): "404 — addressed entity / document / session
    does not exist"; the fake answers an unknown session in a body with its 400.
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronValidationError, match="no session"):
        reader.remember("team a reads team b's session", session_id=sessions["b"])
    with pytest.raises(SpectronValidationError, match="names no session"):
        reader.recall("deploy window", session_id=sessions["b"])
    assert len(fake.facts("ctx")) == 2


def test_an_unscoped_session_is_filed_in_the_openers_region(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key reads its own unscoped session, and gets a 404 for the admin's.

    The document (``CreateSessionRequestJson.scopes``): "empty ⇒ the caller's default write
    region."
    """
    reader = client_with("reader-a")
    own = reader.sessions.create()
    other = admin.sessions.create()

    assert reader.sessions.turns(own.id).turns == []
    with pytest.raises(SpectronNotFoundError):
        reader.sessions.turns(other.id)


def test_a_key_that_writes_but_cannot_read_still_records_its_turns(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A write-only team/a key's remember and chat add their turns to the sessions they open.

    The document (``CreateSessionRequestJson.scopes``): "empty ⇒ the caller's default write
    region": the session is the writer's, though its key may not read it back.
    """
    fake.set_api_keys({"admin": None, "writer-a": {"memory:write": ["team/a/*"]}})
    writer = client_with("writer-a")

    remembered = writer.remember("team a ships on tuesday")
    chatted = writer.chat("when does team a ship")

    turns = {session.id: len(session.turns) for session in fake.sessions("ctx")}
    assert (turns[remembered.session_id], turns[chatted.session_id]) == (1, 2)


def test_writes_into_another_region_stay_refused(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a key may not upload a document nor open a session tagged team/b: a 403 each.

    The document (``upload_document``): 403 "Requested scope outside the caller's write
    region"; (``CreateSessionRequestJson.scopes``) "Each clause's nodes must lie within the
    caller's write region".
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronScopeError):
        reader.documents.upload(b"team b plans", filename="plans.txt", scopes="team/b")
    with pytest.raises(SpectronScopeError):
        reader.sessions.create(scopes="team/b")
    assert fake.documents("ctx") == []
    assert len(fake.sessions("ctx")) == 2


def test_the_whole_tree_sees_every_document_session_and_passage(
    documents: dict[str, str], sessions: dict[str, str], admin: Spectron
) -> None:
    """A key holding the whole tree lists, reads, searches and recalls both regions' rows.

    The document (``ContextQueryRequestJson.lens``): "Empty = the whole granted region."
    """
    listed = admin.documents.list()
    passages = admin.recall("deploys", include=["passages"], k=10).hits

    assert sorted(document.id for document in listed.documents) == sorted(documents.values())
    assert listed.total == 2
    assert [admin.documents.get(document_id).title for document_id in documents.values()] == [
        "a.txt",
        "b.txt",
    ]
    assert len(admin.documents.query("deploys", k=10).results) == 2
    assert sorted(hit.text for hit in passages) == [
        "team a deploys on friday",
        "team b deploys on monday",
    ]
    assert [len(admin.sessions.turns(session_id).turns) for session_id in sessions.values()] == [
        1,
        1,
    ]


# -- Relations ---------------------------------------------------------------------------------


@pytest.fixture
def relations(admin: Spectron) -> None:
    """Alice works at Acme, tagged team/a; Bob works at Globex, tagged team/b."""
    admin.remember(triples=[Triple(entity=ALICE, key="works_at", target=ACME)], scopes="team/a")
    admin.remember(triples=[Triple(entity=BOB, key="works_at", target=GLOBEX)], scopes="team/b")


def _shown(relations: list[RelationDetail]) -> list[tuple[str, str, str]]:
    return [(relation.subject, relation.label, relation.object) for relation in relations]


@pytest.mark.usefixtures("relations")
def test_state_and_entities_show_only_the_keys_relations(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key sees team/a's relation, and the entities it names, never team/b's.

    The document (``FactsRequestJson.scopes``): "Optional DNF scope selector tagging the
    fact"; (``WhoamiJson.effectiveGrants``) "This is what gates every read/write".
    """
    reader = client_with("reader-a")

    assert _shown(reader.state().knowledge.relations) == [("person/alice", "works_at", "org/acme")]
    assert [entity.id for entity in reader.entities.list().entities] == [
        "org/acme",
        "person/alice",
    ]
    assert len(admin.state().knowledge.relations) == 2


@pytest.mark.usefixtures("relations")
def test_a_relation_outside_the_region_is_not_found(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key gets a 404 for an entity only team/b's relation names, and for that relation.

    The document (``get_entity``): 404 "Entity not found"; (``inspect``) 404 "Referent not
    found"; the official SDK (``MemoryNotFoundError``): "404 — addressed entity / document /
    session does not exist."
    """
    reader = client_with("reader-a")

    with pytest.raises(SpectronNotFoundError):
        reader.entities.get("org", "globex")
    for ref in ("relation:person/bob-[works_at]->org/globex", "entity:person/bob"):
        with pytest.raises(SpectronNotFoundError):
            reader.inspect(ref)
    assert _shown(reader.entities.get("org", "acme").relations) == [
        ("person/alice", "works_at", "org/acme")
    ]
    assert admin.inspect("relation:person/bob-[works_at]->org/globex").kind == "relation"


def test_an_unscoped_relation_is_filed_in_the_writers_region(
    admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key reads back its own unscoped relation, and never the admin's unscoped one.

    The document (``FactsRequestJson.scopes``): "Empty = the caller's default write region."
    """
    reader = client_with("reader-a")
    reader.remember(triples=[Triple(entity=ALICE, key="works_at", target=ACME)])
    admin.remember(triples=[Triple(entity=BOB, key="works_at", target=GLOBEX)])

    assert _shown(reader.state().knowledge.relations) == [("person/alice", "works_at", "org/acme")]
    assert len(admin.state().knowledge.relations) == 2


def test_an_elaborated_relation_lies_in_the_elaborators_region(
    admin: Spectron, client_with: ClientWith
) -> None:
    """The whole-tree admin's ``elaborate`` relates team/a's entities in the whole tree: a
    team/a key does not see the relation; its own ``elaborate`` files one it sees.

    The document (``FactsRequestJson.scopes``): "Empty = the caller's default write region";
    ``elaborate`` names no scopes.
    """
    admin.remember(
        triples=[
            Triple(entity=ALICE, key="drinks", value="tea"),
            Triple(entity=BOB, key="drinks", value="coffee"),
        ],
        scopes="team/a",
    )
    reader = client_with("reader-a")

    admin.elaborate(entity_ref="person/alice")
    assert reader.state().knowledge.relations == []
    reader.elaborate(entity_ref="person/alice")

    related = ("person/alice", "related_to", "person/bob")
    assert _shown(reader.state().knowledge.relations) == [related]
    assert _shown(admin.state().knowledge.relations) == [related, related]


@pytest.mark.usefixtures("relations")
def test_deleting_an_entity_spares_relations_outside_the_region(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A team/a forget key deleting Globex leaves team/b's relation to it in place.

    The document (``delete_entity``): "Soft-delete an entity and all its current attributes and
    relations"; (``WhoamiJson.effectiveGrants``) "This is what gates every read/write".
    """
    fake.set_api_keys({"admin": None, "forget-a": TEAM_A_FORGETTER})

    client_with("forget-a").entities.delete("org", "globex")

    assert _shown(admin.entities.get("org", "globex").relations) == [
        ("person/bob", "works_at", "org/globex")
    ]


@pytest.mark.usefixtures("relations")
def test_scopes_forget_erases_the_relations_tagged_under_it(admin: Spectron) -> None:
    """Forgetting team/b erases team/b's relation (and its fact), and counts both.

    The document (``forget_scope``): "Erase everything tagged under a scope subtree".
    """
    forgotten = admin.scopes.forget("team/b").forgotten

    assert forgotten == 2
    assert _shown(admin.state().knowledge.relations) == [("person/alice", "works_at", "org/acme")]


# -- Traces ------------------------------------------------------------------------------------


@pytest.fixture
def traces(admin: Spectron, fake: FakeSpectron, client_with: ClientWith) -> dict[str, str]:
    """The trace ids of a team/a recall, a team/b recall and chat, and the admin's recall."""
    fake.set_api_keys({"admin": None, "reader-a": TEAM_A_READER, "reader-b": TEAM_B_READER})
    reader_b = client_with("reader-b")
    return {
        "a": client_with("reader-a").recall("deploy window").trace.trace_id,
        "b": reader_b.recall("deploy window").trace.trace_id,
        "b-chat": reader_b.chat("when is the deploy window").trace_id,
        "admin": admin.recall("deploy window").trace.trace_id,
    }


def test_traces_list_shows_only_the_keys_region(
    traces: dict[str, str], admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key lists its own trace alone: not team/b's, nor the whole-tree admin's.

    The document (``WhoamiJson.effectiveGrants``): "This is what gates every read/write"; a
    trace holds the texts its call recalled.
    """
    listed = client_with("reader-a").traces.list().traces

    assert [trace.id for trace in listed] == [traces["a"]]
    assert {trace.id for trace in admin.traces.list().traces} == set(traces.values())


def test_a_trace_outside_the_region_is_not_found(
    traces: dict[str, str], client_with: ClientWith
) -> None:
    """A team/a key gets a 404 for team/b's recall and chat traces, by id and through inspect.

    The document (``get_trace``): 404 "Trace not found"; (``inspect``) 404 "Referent not
    found".
    """
    reader = client_with("reader-a")

    for trace_id in (traces["b"], traces["b-chat"], traces["admin"]):
        with pytest.raises(SpectronNotFoundError):
            reader.traces.get(trace_id)
        with pytest.raises(SpectronNotFoundError):
            reader.inspect(f"trace:{trace_id}")
    assert reader.traces.get(traces["a"]).query_text == "deploy window"
    assert client_with("reader-b").traces.get(traces["b-chat"]).parent is not None


def test_traces_stats_count_only_the_keys_region(
    traces: dict[str, str], admin: Spectron, client_with: ClientWith
) -> None:
    """A team/a key's trace statistics count its own recall alone.

    The document (``WhoamiJson.effectiveGrants``): "This is what gates every read/write".
    """
    assert client_with("reader-a").traces.stats().total_queries == 1
    assert admin.traces.stats().total_queries == len(traces)


def test_a_trace_of_a_call_seeing_two_regions_is_hidden_from_either(
    admin: Spectron, fake: FakeSpectron, client_with: ClientWith
) -> None:
    """A key holding team/a and team/b leaves a trace a team/a key cannot read: it may hold
    team/b's texts.

    The document (``WhoamiJson.effectiveGrants``): "This is what gates every read/write".
    """
    both = {"memory:read": ["team/a/*", "team/b/*"]}
    fake.set_api_keys({"admin": None, "reader-a": TEAM_A_READER, "both": both})
    trace_id = client_with("both").recall("deploy window").trace.trace_id

    with pytest.raises(SpectronNotFoundError):
        client_with("reader-a").traces.get(trace_id)
    assert len(client_with("both").traces.get(trace_id).retrievals or []) == 1
