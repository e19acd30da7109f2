"""Journeys send RealWorld requests and members undo what they changed."""

from __future__ import annotations

import random
from typing import Any

import pytest

from livify.loadtest import (
    MEMBER_JOURNEYS,
    VISITOR_JOURNEYS,
    Member,
    Reply,
    StepContext,
    build_catalogue,
)
from livify.loadtest._journeys import clean_up, sign_up, step_mix

ARTICLES = [
    {
        "slug": "calm",
        "favoritesCount": 1,
        "tagList": ["go"],
        "author": {"username": "ann"},
    },
    {
        "slug": "hot",
        "favoritesCount": 90,
        "tagList": ["py", "go"],
        "author": {"username": "bo"},
    },
    {
        "slug": "warm",
        "favoritesCount": 9,
        "tagList": ["py"],
        "author": {"username": "bo"},
    },
]


class FakeSession:
    """Return 200 for every request and keep a list of them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str | None]] = []
        self._next_id = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        step: str,
        json: Any = None,
        token: str | None = None,
        intended_at: float | None = None,
    ) -> Reply:
        self.sent.append((endpoint, path, step, token))
        self._next_id += 1
        if endpoint == "POST /api/users":
            return Reply(201, {"user": {"token": "secret-token"}})
        if endpoint == "POST /api/articles":
            return Reply(201, {"article": {"slug": f"mine-{self._next_id}"}})
        if endpoint == "POST /api/articles/{slug}/comments":
            return Reply(201, {"comment": {"id": self._next_id}})
        return Reply(200, {})


def context(session: FakeSession, seed: int = 1) -> StepContext:
    catalogue = build_catalogue(ARTICLES, ["go", "py", "unused"])
    return StepContext(session, catalogue, random.Random(seed))


def test_catalogue_ranks_by_popularity() -> None:
    """Articles rank by favorites, tags and authors by how often they appear."""
    catalogue = build_catalogue(ARTICLES, ["go", "py", "unused"])
    assert catalogue.articles.items == ["hot", "warm", "calm"]
    assert catalogue.tags.items == ["go", "py", "unused"]
    assert catalogue.authors.items == ["bo", "ann"]


def test_popular_articles_are_read_most() -> None:
    """Zipf-like popularity sends most reads to the top-ranked article."""
    session = FakeSession()
    step_context = context(session)
    for _ in range(600):
        step_context.last_article = None
        step_context.pick_article()
    reads = [step_context.pick_article() for _ in range(600)]
    assert reads.count("hot") > reads.count("warm") > reads.count("calm")


def test_every_journey_sends_one_request_per_step() -> None:
    """Each step of every journey sends at most one RealWorld request."""
    session = FakeSession()
    member_context = context(session)
    member_context.member = Member(username="loadtest_x_1", token="secret-token")
    for journey in (*VISITOR_JOURNEYS, *MEMBER_JOURNEYS):
        step_context = member_context if journey.is_signed_in else context(session)
        for step in journey.steps:
            before = len(session.sent)
            step_context.step = journey.step_name(step)
            step.run(step_context)
            assert len(session.sent) - before <= 1, journey.step_name(step)

    paths = [path for _, path, _, _ in session.sent]
    assert all(path.startswith("/api/") for path in paths)


def test_member_cleans_up_what_it_wrote() -> None:
    """After many member steps, clean-up deletes or undoes every change."""
    session = FakeSession()
    step_context = context(session, seed=5)
    member = sign_up(step_context, run_tag="t", number=1)
    assert member is not None
    step_context.member = member
    for _ in range(40):
        for journey in MEMBER_JOURNEYS:
            for step in journey.steps:
                step_context.step = journey.step_name(step)
                step.run(step_context)

    assert len(member.articles) <= 2
    assert len(member.comments) <= 3
    clean_up(step_context)
    assert member.articles == member.comments == []
    assert member.favorites == member.following == []
    signed = [token for _, _, step, token in session.sent if step != "member.sign_up"]
    assert set(signed) == {"secret-token"}


def test_open_model_mix_matches_member_share() -> None:
    """Members send their share of requests, and journeys theirs within a role."""
    choices = step_mix((*VISITOR_JOURNEYS, *MEMBER_JOURNEYS), member_share=0.25)
    members = sum(c.weight for c in choices if c.journey.is_signed_in)
    visitors = sum(c.weight for c in choices if not c.journey.is_signed_in)
    assert members == pytest.approx(0.25)
    assert visitors == pytest.approx(0.75)

    browse = sum(c.weight for c in choices if c.journey.name == "browse")
    by_author = sum(c.weight for c in choices if c.journey.name == "by_author")
    # browse: weight 6, 4 steps; by_author: weight 1, 3 steps.
    assert browse / by_author == pytest.approx(6 * 4 / (1 * 3))


def test_mix_without_members_has_no_member_steps() -> None:
    """A member share of 0 leaves only visitor steps."""
    choices = step_mix((*VISITOR_JOURNEYS, *MEMBER_JOURNEYS), member_share=0.0)
    assert not [c for c in choices if c.journey.is_signed_in]
