"""User journeys on the RealWorld ("Conduit") API.

A journey is a short session of steps, such as reading the home page, an
article and its comments. Anonymous visitors and signed-in members have their
own journeys, each with a weight. Every step sends at most one request, so the
open model can treat a step as one arrival. Only paths and payloads of the
RealWorld spec are used, so the journeys run against any implementation.
Members register their own accounts, and they delete what they wrote, undo
their favorites and follows when they stop, and hold at most a few articles
and comments at a time.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from livify.loadtest._catalogue import Catalogue
from livify.loadtest._session import Reply, Session

# A member deletes its oldest article or comment before it writes one more.
MAX_OWN_ARTICLES = 2
MAX_OWN_COMMENTS = 3
PAGE_SIZE = 10
SIGN_UP_STEP = "member.sign_up"
CLEAN_UP_STEP = "member.clean_up"


@dataclass
class Member:
    """A signed-in user the load test registered, and what it changed."""

    username: str
    token: str
    articles: list[str] = field(default_factory=list)
    comments: list[tuple[str, int]] = field(default_factory=list)
    favorites: list[str] = field(default_factory=list)
    following: list[str] = field(default_factory=list)


@dataclass
class StepContext:
    """The inputs of a step: the session, the catalogue and the acting member."""

    session: Session
    catalogue: Catalogue
    rng: random.Random
    member: Member | None = None
    step: str = ""
    intended_at: float | None = None
    last_article: str | None = None

    def call(self, method: str, template: str, path: str, json: Any = None) -> Reply:
        """Send one request of the current step, signed when a member acts."""
        intended_at, self.intended_at = self.intended_at, None
        return self.session.request(
            method,
            path,
            endpoint=f"{method} {template}",
            step=self.step,
            json=json,
            token=None if self.member is None else self.member.token,
            intended_at=intended_at,
        )

    def pick_article(self) -> str | None:
        if len(self.catalogue.articles) == 0:
            return None
        return self.catalogue.articles.pick(self.rng)


StepFunction = Callable[[StepContext], None]


@dataclass(frozen=True)
class Step:
    name: str
    run: StepFunction


@dataclass(frozen=True)
class Journey:
    """A named sequence of steps, chosen among its role's journeys by weight."""

    name: str
    weight: float
    steps: tuple[Step, ...]
    is_signed_in: bool

    def step_name(self, step: Step) -> str:
        return f"{self.name}.{step.name}"


def segment(value: str) -> str:
    """Quote a slug or username for use as one path segment."""
    return quote(value, safe="")


def list_tags(context: StepContext) -> None:
    context.call("GET", "/api/tags", "/api/tags")


def list_articles(context: StepContext) -> None:
    offset = PAGE_SIZE * min(int(context.rng.expovariate(1.0)), 4)
    path = f"/api/articles?limit={PAGE_SIZE}&offset={offset}"
    context.call("GET", "/api/articles", path)


def filter_by_tag(context: StepContext) -> None:
    if len(context.catalogue.tags) == 0:
        list_articles(context)
        return

    tag = quote(context.catalogue.tags.pick(context.rng), safe="")
    context.call("GET", "/api/articles", f"/api/articles?tag={tag}&limit={PAGE_SIZE}")


def read_article(context: StepContext) -> None:
    slug = context.pick_article()
    if slug is None:
        return

    context.last_article = slug
    context.call("GET", "/api/articles/{slug}", f"/api/articles/{segment(slug)}")


def read_comments(context: StepContext) -> None:
    slug = context.last_article or context.pick_article()
    if slug is None:
        return

    path = f"/api/articles/{segment(slug)}/comments"
    context.call("GET", "/api/articles/{slug}/comments", path)


def view_profile(context: StepContext) -> None:
    if len(context.catalogue.authors) == 0:
        return

    username = context.catalogue.authors.pick(context.rng)
    path = f"/api/profiles/{segment(username)}"
    context.call("GET", "/api/profiles/{username}", path)


def articles_by_author(context: StepContext) -> None:
    if len(context.catalogue.authors) == 0:
        return

    author = quote(context.catalogue.authors.pick(context.rng), safe="")
    path = f"/api/articles?author={author}&limit={PAGE_SIZE}"
    context.call("GET", "/api/articles", path)


def read_feed(context: StepContext) -> None:
    path = f"/api/articles/feed?limit={PAGE_SIZE}"
    context.call("GET", "/api/articles/feed", path)


def toggle_favorite(context: StepContext) -> None:
    """Favorite a popular article, or undo an earlier favorite half the time."""
    member = _require_member(context)
    template = "/api/articles/{slug}/favorite"
    if member.favorites and context.rng.random() < 0.5:
        undone = member.favorites.pop(0)
        context.call("DELETE", template, f"/api/articles/{segment(undone)}/favorite")
        return

    slug = context.last_article or context.pick_article()
    if slug is None:
        return

    if slug not in member.favorites:
        member.favorites.append(slug)
    context.call("POST", template, f"/api/articles/{segment(slug)}/favorite")


def comment(context: StepContext) -> None:
    """Comment on an article, or delete the oldest own comment when at the cap."""
    member = _require_member(context)
    if len(member.comments) >= MAX_OWN_COMMENTS:
        _delete_comment(context, *member.comments.pop(0))
        return

    slug = context.last_article or context.pick_article()
    if slug is None:
        return

    body = {"comment": {"body": _sentence(context.rng)}}
    path = f"/api/articles/{segment(slug)}/comments"
    reply = context.call("POST", "/api/articles/{slug}/comments", path, body)
    comment_id = _nested(reply.body, "comment", "id")
    if reply.is_success and isinstance(comment_id, int):
        member.comments.append((slug, comment_id))


def toggle_follow(context: StepContext) -> None:
    """Follow a popular author, or unfollow one followed earlier half the time."""
    member = _require_member(context)
    template = "/api/profiles/{username}/follow"
    if member.following and context.rng.random() < 0.5:
        username = member.following.pop(0)
        context.call("DELETE", template, f"/api/profiles/{segment(username)}/follow")
        return

    if len(context.catalogue.authors) == 0:
        return

    username = context.catalogue.authors.pick(context.rng)
    if username not in member.following:
        member.following.append(username)
    context.call("POST", template, f"/api/profiles/{segment(username)}/follow")


def publish(context: StepContext) -> None:
    """Publish an article, or delete the oldest own article when at the cap."""
    member = _require_member(context)
    if len(member.articles) >= MAX_OWN_ARTICLES:
        _delete_article(context, member.articles.pop(0))
        return

    tags = context.catalogue.tags
    tag_list = [tags.pick(context.rng) for _ in range(2)] if len(tags) else []
    article = {
        "title": f"Load test notes {secrets.token_hex(4)}",
        "description": _sentence(context.rng),
        "body": " ".join(_sentence(context.rng) for _ in range(6)),
        "tagList": sorted(set(tag_list)),
    }
    reply = context.call("POST", "/api/articles", "/api/articles", {"article": article})
    slug = _nested(reply.body, "article", "slug")
    if reply.is_success and isinstance(slug, str):
        member.articles.append(slug)


def edit(context: StepContext) -> None:
    """Change the body of an own article, publishing one first if there is none."""
    member = _require_member(context)
    if not member.articles:
        publish(context)
        return

    slug = member.articles[-1]
    body = {"article": {"body": " ".join(_sentence(context.rng) for _ in range(8))}}
    context.call("PUT", "/api/articles/{slug}", f"/api/articles/{segment(slug)}", body)


def sign_up(context: StepContext, *, run_tag: str, number: int) -> Member | None:
    """Register a new member, or return None when registration failed."""
    username = f"loadtest_{run_tag}_{number}"
    user = {
        "username": username,
        "email": f"{username}@example.com",
        "password": secrets.token_urlsafe(16),
    }
    context.step = SIGN_UP_STEP
    reply = context.call("POST", "/api/users", "/api/users", {"user": user})
    token = _nested(reply.body, "user", "token")
    if not reply.is_success or not isinstance(token, str):
        return None
    return Member(username=username, token=token)


def clean_up(context: StepContext) -> None:
    """Delete the member's articles and comments and undo favorites and follows.

    RealWorld has no endpoint that deletes a user, so the account stays; its
    name starts with `loadtest_`.
    """
    member = _require_member(context)
    context.step = CLEAN_UP_STEP
    while member.comments:
        _delete_comment(context, *member.comments.pop())
    while member.articles:
        _delete_article(context, member.articles.pop())
    while member.favorites:
        slug = member.favorites.pop()
        path = f"/api/articles/{segment(slug)}/favorite"
        context.call("DELETE", "/api/articles/{slug}/favorite", path)
    while member.following:
        username = member.following.pop()
        path = f"/api/profiles/{segment(username)}/follow"
        context.call("DELETE", "/api/profiles/{username}/follow", path)


def _delete_comment(context: StepContext, slug: str, comment_id: int) -> None:
    path = f"/api/articles/{segment(slug)}/comments/{comment_id}"
    context.call("DELETE", "/api/articles/{slug}/comments/{id}", path)


def _delete_article(context: StepContext, slug: str) -> None:
    context.call("DELETE", "/api/articles/{slug}", f"/api/articles/{segment(slug)}")


def _require_member(context: StepContext) -> Member:
    if context.member is None:
        msg = f"step {context.step!r} needs a signed-in member"
        raise RuntimeError(msg)
    return context.member


def _nested(body: Any, outer: str, inner: str) -> Any:
    value = body.get(outer) if isinstance(body, dict) else None
    return value.get(inner) if isinstance(value, dict) else None


_WORDS = [
    "cache",
    "latency",
    "queue",
    "index",
    "replica",
    "write",
    "read",
    "tail",
    "budget",
    "pool",
    "feed",
    "request",
    "throughput",
    "percentile",
    "histogram",
    "worker",
    "shard",
    "lock",
    "commit",
]


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(6, 14))
    return " ".join(words).capitalize() + "."


VISITOR_JOURNEYS = (
    Journey(
        "browse",
        6.0,
        (
            Step("list_tags", list_tags),
            Step("home", list_articles),
            Step("read_article", read_article),
            Step("read_comments", read_comments),
        ),
        is_signed_in=False,
    ),
    Journey(
        "by_tag",
        3.0,
        (
            Step("home", list_articles),
            Step("filter_by_tag", filter_by_tag),
            Step("read_article", read_article),
            Step("read_comments", read_comments),
        ),
        is_signed_in=False,
    ),
    Journey(
        "by_author",
        1.0,
        (
            Step("read_article", read_article),
            Step("view_profile", view_profile),
            Step("articles_by_author", articles_by_author),
        ),
        is_signed_in=False,
    ),
)

MEMBER_JOURNEYS = (
    Journey(
        "catch_up",
        5.0,
        (
            Step("feed", read_feed),
            Step("read_article", read_article),
            Step("read_comments", read_comments),
            Step("favorite", toggle_favorite),
        ),
        is_signed_in=True,
    ),
    Journey(
        "discuss",
        2.0,
        (
            Step("read_article", read_article),
            Step("read_comments", read_comments),
            Step("comment", comment),
        ),
        is_signed_in=True,
    ),
    Journey(
        "follow",
        2.0,
        (Step("view_profile", view_profile), Step("follow", toggle_follow)),
        is_signed_in=True,
    ),
    Journey(
        "write",
        1.0,
        (Step("publish", publish), Step("edit", edit)),
        is_signed_in=True,
    ),
)


@dataclass(frozen=True)
class StepChoice:
    """One step of one journey, weighted for the open model's request mix."""

    journey: Journey
    step: Step
    weight: float


def step_mix(
    journeys: Sequence[Journey], *, member_share: float
) -> tuple[StepChoice, ...]:
    """Weight every step so that the open model sends the closed model's mix.

    A closed-model user sends about one request per think time whatever its
    role, so `member_share` of the requests come from members. Within a
    role, a journey's requests are its weight times its number of steps, so
    every step gets `role_share * weight / sum(weight * steps)` over the
    role's journeys, and each role's steps add up to its share.
    """
    choices: list[StepChoice] = []
    for is_signed_in, role_share in ((False, 1 - member_share), (True, member_share)):
        role = [journey for journey in journeys if journey.is_signed_in == is_signed_in]
        requests = sum(journey.weight * len(journey.steps) for journey in role)
        if role_share <= 0 or requests <= 0:
            continue

        for journey in role:
            weight = role_share * journey.weight / requests
            choices.extend(StepChoice(journey, step, weight) for step in journey.steps)
    return tuple(choices)


def pick_journey(journeys: Sequence[Journey], rng: random.Random) -> Journey:
    return rng.choices(list(journeys), weights=[j.weight for j in journeys])[0]
