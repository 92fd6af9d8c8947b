"""Grants gate every read: a key sees, counts and forgets only the rows of its own region."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_spectron import FakeSpectron, Spectron

ClientWith = Callable[..., Spectron]

TEAM_A_READER = {"memory:read": ["team/a/*"], "memory:write": ["team/a/*"]}


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
