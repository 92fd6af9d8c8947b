"""The loopback server under load: 500 requests from 20 clients, 10% of them failed on purpose."""

from __future__ import annotations

import concurrent.futures
import threading

import httpx

from pytest_spectron import SpectronMock


def test_five_hundred_requests_from_twenty_clients_with_faults() -> None:
    """Each request gets its scripted fate; the journal has each once; nothing leaks after."""
    threads_before = threading.active_count()
    with SpectronMock() as mock:
        mock.fail("remember", 503, rate=0.1, seed=3)
        server = mock.serve()
        url = f"{server.url}/api/v1/{mock.context}/facts"
        headers = {"authorization": f"Bearer {mock.api_key}"}

        def client_run(client_number: int) -> dict[str, int]:
            statuses = {}
            with httpx.Client(headers=headers, timeout=10) as http:
                for request_number in range(25):
                    text = f"client {client_number} note {request_number}"
                    statuses[text] = http.post(url, json={"text": text}).status_code
            return statuses

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            results: dict[str, int] = {}
            for statuses in pool.map(client_run, range(20)):
                results.update(statuses)

        attempts = mock.attempts("remember")
        assert len(results) == len(attempts) == 500
        assert {attempt.body["text"]: int(attempt.outcome) for attempt in attempts} == results
        assert set(results.values()) == {200, 503}
        failed = sum(status == 503 for status in results.values())
        assert 20 <= failed <= 80
        stored = {fact.text for fact in mock.fake.facts(mock.context)}
        assert stored == {text for text, status in results.items() if status == 200}
    assert threading.active_count() == threads_before
