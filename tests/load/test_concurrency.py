"""Many calls at once against one mock: every attempt journaled once, every outcome as scripted."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import defaultdict

from pytest_spectron import SpectronMock, SpectronServerError
from pytest_spectron.testing import Attempt


def check_ledger(mock: SpectronMock, results: dict[str, str]) -> None:
    """Per call: 1-4 attempts under one key, ending in the call's result; one fact per success."""
    by_key: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in mock.attempts("remember"):
        assert attempt.idempotency_key is not None
        by_key[attempt.idempotency_key].append(attempt)
    assert len(by_key) == len(results)
    numbers = [attempt.number for attempt in mock.attempts()]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    stored = {fact.text for fact in mock.fake.facts(mock.context)}
    for attempts in by_key.values():
        outcomes = [attempt.outcome for attempt in attempts]
        assert 1 <= len(outcomes) <= 4
        assert all(outcome == "503" for outcome in outcomes[:-1])
        text = attempts[0].body["text"]
        assert all(attempt.body["text"] == text for attempt in attempts)
        assert results[text] == ("saved" if outcomes[-1] == "200" else "failed")
        assert (text in stored) == (results[text] == "saved")


def test_two_hundred_concurrent_async_calls() -> None:
    """200 concurrent remembers under random 503s: the journal and the store agree with them."""
    with SpectronMock() as mock:
        mock.fail("remember", 503, rate=0.4, seed=11)

        async def save(client: object, text: str) -> tuple[str, str]:
            try:
                await client.remember(text)  # type: ignore[attr-defined]
            except SpectronServerError:
                return text, "failed"
            return text, "saved"

        async def main() -> dict[str, str]:
            async with mock.async_client() as client:
                pairs = await asyncio.gather(*(save(client, f"note {n}") for n in range(200)))
            return dict(pairs)

        results = asyncio.run(main())
        check_ledger(mock, results)
        assert "saved" in results.values()


def test_sixteen_threads_of_sync_calls() -> None:
    """16 threads sharing one sync client: same guarantees as the async case."""
    with SpectronMock() as mock, mock.client() as client:
        mock.fail("remember", 503, rate=0.4, seed=5)

        def save(text: str) -> tuple[str, str]:
            try:
                client.remember(text)
            except SpectronServerError:
                return text, "failed"
            return text, "saved"

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = dict(pool.map(save, [f"thread note {n}" for n in range(160)]))
        check_ledger(mock, results)
