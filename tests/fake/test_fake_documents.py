"""Documents keep their bytes exactly; chunks, keywords and search work on their text."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pytest_spectron import FakeSpectron, Spectron, SpectronNotFoundError
from pytest_spectron.testing._cli import _parser
from pytest_spectron.testing.fake._store import PROCESSING_STAGE_SECONDS

AUTH = {"authorization": "Bearer key"}
# Bytes that trip naive multipart parsers: CRLFs, a fake boundary, NUL and invalid UTF-8.
AWKWARD = (
    b"line one\r\n\r\n--boundary\r\nContent-Type: x\r\n\r\n\x00\xff\xfe" + "é".encode() + b"\r\n"
)


def test_uploaded_bytes_come_back_identical(client: Spectron) -> None:
    """``fetch_raw`` returns exactly the uploaded bytes."""
    document = client.documents.upload(AWKWARD, filename="awkward.bin")

    assert client.documents.fetch_raw(document.id) == AWKWARD
    assert client.documents.get(document.id).size_bytes == len(AWKWARD)


def test_raw_has_the_stored_content_type(client: Spectron, http: httpx.Client) -> None:
    """``raw`` answers with the MIME type the document was stored with."""
    document = client.documents.upload(b"a,b\n1,2\n", filename="table.csv", mime_type="text/csv")

    answer = http.get(f"/api/v1/ctx/documents/{document.id}/raw", headers=AUTH)

    assert answer.headers["content-type"] == "text/csv"


def test_upload_keeps_title_labels_and_scopes(client: Spectron, fake: FakeSpectron) -> None:
    """The metadata part's title, labels and scopes are kept with the document."""
    client.documents.upload(
        b"minutes", filename="m.txt", title="Minutes", labels=["kind=minutes"], scopes="team/a"
    )

    stored = fake.documents("ctx")[0]

    assert (stored.title, stored.labels, stored.scopes) == (
        "Minutes",
        ("kind=minutes",),
        (("team/a",),),
    )
    assert (stored.mime_type, stored.source) == ("text/plain", "m.txt")


def test_identical_bytes_deduplicate(client: Spectron) -> None:
    """A second upload of the same bytes answers 202 with the first id and ``deduplicated``."""
    first = client.documents.upload(b"same bytes", filename="a.txt")
    again = client.documents.upload(b"same bytes", filename="b.txt")

    assert (first.deduplicated, again.deduplicated) == (False, True)
    assert again.id == first.id
    assert client.documents.list().total == 1


def test_listing_pages_and_filters(client: Spectron) -> None:
    """Pages count from 0 (as documented) and have the asked size; the MIME filter narrows."""
    for number in range(5):
        client.documents.upload(f"doc {number}".encode(), filename=f"{number}.txt")
    client.documents.upload(b"{}", filename="data.json")

    page = client.documents.list(page=1, page_size=2)
    json_only = client.documents.list(mime_type="application/json").documents

    assert (page.total, page.page, page.page_size) == (6, 1, 2)
    assert [document.title for document in page.documents] == ["2.txt", "3.txt"]
    assert [document.title for document in json_only] == ["data.json"]
    assert client.documents.list(status="failed").total == 0


def ready(client: Spectron, document_id: str) -> None:
    """Poll ``documents.get`` until the document is ready (each request is a second here)."""
    for _ in range(10):
        if client.documents.get(document_id).status == "ready":
            return
    raise AssertionError(f"{document_id} never became ready")


def test_chunks_cover_the_text_in_order(client: Spectron) -> None:
    """Fixed-size chunks concatenate back to the text."""
    text = ("kettles boil water. " * 30).encode()
    document = client.documents.upload(text, filename="kettle.txt")
    ready(client, document.id)

    chunks = client.documents.chunks(document.id, page_size=100)

    assert chunks.total == len(chunks.chunks) == 3
    assert "".join(chunk.text for chunk in chunks.chunks).encode() == text
    assert [chunk.char_start for chunk in chunks.chunks] == [0, 200, 400]


def test_documents_query_finds_the_matching_chunk(client: Spectron) -> None:
    """A lexical query over chunks finds the document that has the words."""
    kettle = client.documents.upload(b"kettles boil water", filename="kettle.txt")
    bike = client.documents.upload(b"bicycles have wheels", filename="bike.txt")
    ready(client, bike.id)

    results = client.documents.query("boil kettles").results

    assert [result.document.id for result in results] == [kettle.id]


def test_keywords_link_back_to_documents(client: Spectron) -> None:
    """A word in two documents is a keyword of both, listed and searchable."""
    first = client.documents.upload(b"kettles boil water", filename="a.txt")
    second = client.documents.upload(b"kettles whistle loudly", filename="b.txt")
    ready(client, second.id)

    keyword = client.documents.keyword("kettles")

    assert keyword.document_count == 2
    assert [d.id for d in keyword.documents] == [first.id, second.id]
    assert "kettles" in [k.text for k in client.documents.document_keywords(first.id).keywords]
    assert [k.text for k in client.documents.keywords(min_document_count=2).keywords] == ["kettles"]
    assert [hit.text for hit in client.documents.search_keywords("kettles").results] == ["kettles"]


def test_reprocess_replaces_bytes_and_bumps_the_version(client: Spectron) -> None:
    """``reprocess`` (PUT) keeps the id, stores the new bytes, and makes version 2."""
    document = client.documents.upload(b"v1", filename="a.txt")

    client.documents.reprocess(document.id, b"v2", filename="a.txt")

    assert client.documents.get(document.id).version == 2
    assert client.documents.fetch_raw(document.id) == b"v2"


def test_deleted_document_is_a_404(client: Spectron) -> None:
    """After ``delete`` the document and its bytes are gone."""
    document = client.documents.upload(b"short-lived", filename="a.txt")

    client.documents.delete(document.id)

    with pytest.raises(SpectronNotFoundError):
        client.documents.get(document.id)
    with pytest.raises(SpectronNotFoundError):
        client.documents.fetch_raw(document.id)


def test_metadata_after_the_file_part_is_a_400(http: httpx.Client, fake: FakeSpectron) -> None:
    """The document requires the metadata part first: one after the file is refused."""
    files = [
        ("file", ("late.txt", b"late metadata", "text/plain")),
        ("metadata", (None, b'{"title": "Late"}', "application/json")),
    ]

    answer = http.post("/api/v1/ctx/documents", files=files, headers=AUTH)

    assert answer.status_code == 400
    assert "metadata part comes after the file part" in answer.json()["message"]
    assert fake.documents("ctx") == []


def test_upload_that_is_not_multipart_is_a_415(http: httpx.Client) -> None:
    """A JSON body where a multipart upload belongs is refused as an unsupported media type."""
    answer = http.post("/api/v1/ctx/documents", json={"file": "x"}, headers=AUTH)

    assert answer.status_code == 415


def test_upload_without_a_file_part_is_a_400(http: httpx.Client) -> None:
    """A form with metadata only names the missing ``file`` field."""
    files = [("metadata", (None, b"{}", "application/json"))]

    answer = http.post("/api/v1/ctx/documents", files=files, headers=AUTH)

    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"field": "file", "message": "the upload has no 'file' part"}
    ]


def test_seeded_document_is_served(client: Spectron, fake: FakeSpectron) -> None:
    """``add_document`` stores a document the client then reads like an uploaded one."""
    document_id = fake.add_document("ctx", b"seeded", title="Seed", mime_type="text/markdown")

    assert client.documents.get(document_id).mime_type == "text/markdown"
    assert client.documents.fetch_raw(document_id) == b"seeded"


def test_reserved_label_keys_in_upload_metadata_are_a_400(
    http: httpx.Client, fake: FakeSpectron
) -> None:
    """Upload labels are validated like facts: a ``_``-prefixed key is refused."""
    files = [
        ("metadata", (None, b'{"labels": ["_k=v"]}', "application/json")),
        ("file", ("a.txt", b"text", "text/plain")),
    ]

    answer = http.post("/api/v1/ctx/documents", files=files, headers=AUTH)

    assert (answer.status_code, answer.json()["errors"][0]["field"]) == (400, "metadata.labels")
    assert fake.documents("ctx") == []


def test_reprocess_without_a_body_runs_the_same_bytes_again(
    http: httpx.Client, fake: FakeSpectron
) -> None:
    """A bodiless reprocess, as the official SDKs send it, bumps the version, keeps the bytes."""
    document_id = fake.add_document("ctx", b"same bytes")

    answer = http.put(f"/api/v1/ctx/documents/{document_id}", headers=AUTH)

    assert answer.status_code == 202
    [document] = fake.documents("ctx")
    assert (document.version, document.content) == (2, b"same bytes")


def test_page_size_is_capped_at_the_documented_100(client: Spectron) -> None:
    """A ``pageSize`` beyond the document's maximum of 100 is served as 100."""
    assert client.documents.list(page_size=1000).page_size == 100


# The document: "202: Upload accepted", and `DocumentStatus`, "Lifecycle state of a [`Document`]
# in the ingestion pipeline ... in Phase A the pipeline transitions straight from `Embedding` to
# `Ready`": an upload is queued, then processed, and its chunks exist once it is ready.
class Clock:
    """A fake's clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_upload_is_queued_then_processed_on_the_clock(
    transport_for: Callable[[FakeSpectron], httpx.MockTransport],
) -> None:
    """202 ``queued``, then one documented status per second of the clock, to ``ready``."""
    clock = Clock()
    fake = FakeSpectron(clock=clock)
    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        uploaded = client.documents.upload(b"kettles boil water", filename="k.txt")
        seen = []
        for _ in range(6):
            seen.append(client.documents.get(uploaded.id).status)
            clock.now += 1

    assert uploaded.status == "queued"
    assert seen == ["queued", "extracting", "chunking", "embedding", "ready", "ready"]
    assert fake.documents("ctx")[0].status == "ready"


def test_chunks_and_search_wait_for_ready(
    transport_for: Callable[[FakeSpectron], httpx.MockTransport],
) -> None:
    """Before ``ready`` a document has no chunks, keywords or search hits; after, it has them."""
    clock = Clock()
    fake = FakeSpectron(clock=clock)
    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        document = client.documents.upload(b"kettles boil water", filename="k.txt")
        before = (
            client.documents.chunks(document.id).total,
            client.documents.query("kettles").results,
            client.documents.keywords().keywords,
            client.documents.get(document.id).processing_completed_at,
        )
        clock.now += 4
        after = client.documents.chunks(document.id).total, client.documents.query("kettles")

    assert before == (0, [], [], None)
    assert after[0] == 1
    assert [hit.document.id for hit in after[1].results] == [document.id]


def test_reprocess_goes_through_the_pipeline_again(
    transport_for: Callable[[FakeSpectron], httpx.MockTransport],
) -> None:
    """``documents.reprocess`` is 202 ``queued`` again, ready after the same stages."""
    clock = Clock()
    fake = FakeSpectron(clock=clock)
    document = fake.add_document("ctx", b"kettles boil water")
    with Spectron("ctx", "http://spectron.test", "key", transport=transport_for(fake)) as client:
        assert client.documents.get(document).status == "ready"  # seeded documents are ready
        again = client.documents.reprocess(document, b"kettles whistle")
        clock.now += 4

        assert (again.status, client.documents.get(document).status) == ("queued", "ready")


def test_processing_seconds_zero_is_ready_at_once(client: Spectron, fake: FakeSpectron) -> None:
    """``processing_seconds = 0`` keeps uploads instant: answered ``ready``, chunks at once."""
    fake.processing_seconds = 0

    document = client.documents.upload(b"kettles boil water", filename="k.txt")

    assert (document.status, client.documents.chunks(document.id).total) == ("ready", 1)


@pytest.mark.parametrize("value", [-1, float("inf"), float("nan"), "1", True])
def test_bad_processing_seconds_is_refused(fake: FakeSpectron, value: object) -> None:
    """A negative, infinite or non-number ``processing_seconds`` is refused, naming it."""
    with pytest.raises(ValueError, match="processing_seconds must be 0"):
        fake.processing_seconds = value  # type: ignore[assignment]


def test_cli_processing_seconds_has_the_fakes_default() -> None:
    """``serve --processing-seconds`` defaults to the fake's stage length, and takes 0."""
    assert _parser().parse_args(["serve"]).processing_seconds == PROCESSING_STAGE_SECONDS
    assert _parser().parse_args(["serve", "--processing-seconds", "0"]).processing_seconds == 0
