"""The demo dataset: how many rows of each kind, and the rows themselves.

Every random choice comes from one `random.Random(random_seed)`, drawn in a
fixed order, so a seed and a `now` give the same rows on every backend.

Time model, all in POSIX seconds within the year before `now`:

- Users join over the first nine months, in id order.
- Articles appear in id order from the first join to one day before `now`,
  each by a user who had already joined.
- Favorites, comments and follows come after every row they refer to,
  with more of them soon after an article than long after.
"""

from __future__ import annotations

import itertools
import math
import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from livify.platform.keys import canonical_key
from livify.platform.seed._sink import Batch, Row
from livify.platform.seed._text import ArticleText, username
from livify.platform.seed._zipf import ZipfAllocation, ZipfSampler

# Rows at scale 1. Every count is multiplied by the scale except the tag
# vocabulary, which grows with the square root of the scale because
# vocabularies grow much slower than text (Heaps' law).
BASE_USERS = 1_000
BASE_ARTICLES = 10_000
BASE_COMMENTS = 50_000
BASE_FAVORITES = 100_000
BASE_FOLLOWS = 20_000
BASE_TAGS = 300
MIN_USERS = 2

# The API returns an article's comments in one unpaginated list, so the
# most discussed articles stop at this many and the rest go to the tail.
COMMENTS_PER_ARTICLE_MAX = 1_000
# Share of articles by number of tags: 1, 2, 3, 4 and 5 tags.
TAG_COUNT_WEIGHTS = (20, 30, 25, 15, 10)
TAG_COUNT_CUMULATIVE = tuple(itertools.accumulate(TAG_COUNT_WEIGHTS))
EDITED_ARTICLE_FRACTION = 0.1

# Zipf exponents. Authors: who writes and who is followed (one ranking for
# both). Articles: who gets favorites and comments. Activity: who favorites
# and comments. Tags: which tags articles carry.
AUTHOR_EXPONENT = 1.0
ARTICLE_EXPONENT = 1.0
ACTIVITY_EXPONENT = 0.8
TAG_EXPONENT = 1.1

YEAR_SECONDS = 365 * 24 * 3600.0
DAY_SECONDS = 24 * 3600.0
JOIN_SPAN_FRACTION = 0.75
# Bounded retries of a weighted draw before falling back to a uniform one.
AUTHOR_DRAW_ATTEMPTS = 32


@dataclass(frozen=True, slots=True)
class SeedSizes:
    """Rows to generate per kind.

    Comments, favorites and follows are targets. Per-item counts are rounded
    up or down at random, so the totals come close to them but rarely match.
    """

    users: int
    articles: int
    comments: int
    favorites: int
    follows: int
    tags: int

    @classmethod
    def from_scale(cls, scale: float) -> SeedSizes:
        """Scale the default sizes; raise ValueError unless 0 < scale < inf."""
        if not math.isfinite(scale) or scale <= 0:
            msg = f"scale must be a positive finite number, got {scale!r}"
            raise ValueError(msg)

        users = max(MIN_USERS, round(BASE_USERS * scale))
        articles = max(1, round(BASE_ARTICLES * scale))
        return cls(
            users=users,
            articles=articles,
            comments=round(BASE_COMMENTS * scale),
            favorites=min(round(BASE_FAVORITES * scale), users * articles),
            follows=min(round(BASE_FOLLOWS * scale), users * (users - 1)),
            tags=max(1, round(BASE_TAGS * math.sqrt(scale))),
        )


class ArticleRows(NamedTuple):
    article: Row
    tags: list[Row]
    favorites: list[Row]
    comments: list[Row]


class DemoDataset:
    """Generate the rows of one seed run.

    `first_user_id` and `first_article_id` are the ids the run starts at, and
    `tag_ids` lists the tag ids by popularity rank. `run_tag` is appended to
    usernames, emails and slugs, so that a second run into the same database
    adds new unique ones. It is empty for a database without users.
    """

    def __init__(
        self,
        sizes: SeedSizes,
        *,
        random_seed: int,
        now_seconds: float,
        password_hash: str,
        run_tag: str,
        first_user_id: int,
        first_article_id: int,
        tag_ids: Sequence[int],
        encode_timestamp: Callable[[float], Any],
    ) -> None:
        self.sizes = sizes
        self._rng = random.Random(random_seed)
        self._random_seed = random_seed
        self._password_hash = password_hash
        self._suffix = f"-{run_tag}" if run_tag else ""
        self._first_user_id = first_user_id
        self._first_article_id = first_article_id
        self._tag_ids = list(tag_ids)
        self._encode = encode_timestamp
        self._text = ArticleText()

        self._now = now_seconds
        self._year_start = now_seconds - YEAR_SECONDS
        self._join_span = JOIN_SPAN_FRACTION * YEAR_SECONDS
        # The first article waits until at least one user has joined.
        self._articles_start = self._year_start + self._join_span / sizes.users
        self._articles_end = now_seconds - DAY_SECONDS

        self._init_popularity()

    def _init_popularity(self) -> None:
        sizes, rng = self.sizes, self._rng
        self._joined = array(
            "d",
            (
                self._year_start
                + (index + rng.random()) / sizes.users * self._join_span
                for index in range(sizes.users)
            ),
        )
        self._author_by_rank = list(range(sizes.users))
        rng.shuffle(self._author_by_rank)
        self._active_by_rank = list(range(sizes.users))
        rng.shuffle(self._active_by_rank)
        self._article_rank = array("l", range(sizes.articles))
        rng.shuffle(self._article_rank)

        self._authors = ZipfSampler(sizes.users, AUTHOR_EXPONENT)
        self._active_users = ZipfSampler(sizes.users, ACTIVITY_EXPONENT)
        self._tags = ZipfSampler(len(self._tag_ids), TAG_EXPONENT)
        self._favorites = ZipfAllocation(
            sizes.articles, sizes.favorites, ARTICLE_EXPONENT, cap=sizes.users
        )
        self._comments = ZipfAllocation(
            sizes.articles,
            sizes.comments,
            ARTICLE_EXPONENT,
            cap=COMMENTS_PER_ARTICLE_MAX,
        )
        self._follows = ZipfAllocation(
            sizes.users, sizes.follows, AUTHOR_EXPONENT, cap=sizes.users - 1
        )

    def batches(self, batch_rows: int) -> Iterator[Batch]:
        """Yield every row in batches of about `batch_rows`, parents first.

        A batch ends after the article that takes it past `batch_rows`, so
        one can be larger by that article's favorites and comments.
        """
        if batch_rows < 1:
            msg = f"batch_rows must be at least 1, got {batch_rows!r}"
            raise ValueError(msg)

        batch = Batch()
        for table, rows in (
            ("users", self.user_rows()),
            ("follows", self.follow_rows()),
        ):
            for row in rows:
                batch.add(table, row)
                if batch.row_count >= batch_rows:
                    yield batch
                    batch = Batch()

        for done, article in enumerate(self.article_rows(), start=1):
            batch.add("articles", article.article)
            batch.extend("article_tags", article.tags)
            batch.extend("favorites", article.favorites)
            batch.extend("comments", article.comments)
            if batch.row_count >= batch_rows or done == self.sizes.articles:
                batch.articles_done = done
                yield batch
                batch = Batch()

    # --- users and follows -----------------------------------------------------

    def username(self, index: int) -> str:
        return username(index, self._random_seed) + self._suffix

    def email(self, index: int) -> str:
        return f"{self.username(index)}@example.com"

    @property
    def login_email(self) -> str:
        """Return the email of the most followed author, for a demo login."""
        return self.email(self._author_by_rank[0])

    def user_rows(self) -> Iterator[Row]:
        for index in range(self.sizes.users):
            name, email = self.username(index), self.email(index)
            joined = self._encode(self._joined[index])
            yield (
                self._first_user_id + index,
                name,
                canonical_key(name),
                email,
                canonical_key(email),
                self._password_hash,
                self._text.bio(self._rng),
                None,
                joined,
                joined,
            )

    def follow_rows(self) -> Iterator[Row]:
        """Yield follows, most for the top authors; never a self-follow."""
        others = range(self.sizes.users - 1)
        for rank in range(self.sizes.users):
            followee = self._author_by_rank[rank]
            count = self._follows.draw(rank, self._rng)
            for other in self._rng.sample(others, count):
                # Skip over the followee's own index.
                follower = other + 1 if other >= followee else other
                since = max(self._joined[follower], self._joined[followee])
                yield (
                    self._first_user_id + follower,
                    self._first_user_id + followee,
                    self._encode(self._time_after(since)),
                )

    # --- articles and what hangs off them ----------------------------------------

    def article_rows(self) -> Iterator[ArticleRows]:
        span = self._articles_end - self._articles_start
        for index in range(self.sizes.articles):
            created = (
                self._articles_start
                + (index + self._rng.random()) / self.sizes.articles * span
            )
            yield self._article(index, created)

    def _article(self, index: int, created: float) -> ArticleRows:
        rng = self._rng
        article_id = self._first_article_id + index
        author = self._pick_author(created)
        rank = self._article_rank[index]
        title, slug_base, description, body = self._text.article(rng)

        favorites = self._favorite_rows(article_id, created, rank)
        comments = self._comment_rows(article_id, created, rank)
        tags = [(article_id, tag_id) for tag_id in self._pick_tags()]

        updated = created
        if rng.random() < EDITED_ARTICLE_FRACTION:
            updated = self._time_after(created)

        article = (
            article_id,
            f"{slug_base}-{index + 1}{self._suffix}",
            title,
            description,
            body,
            self._first_user_id + author,
            len(favorites),
            self._encode(created),
            self._encode(updated),
        )
        return ArticleRows(article, tags, favorites, comments)

    def _pick_author(self, created: float) -> int:
        """Draw a popular author among the users who joined before `created`."""
        joined_count = int(
            (created - self._year_start) / self._join_span * self.sizes.users
        )
        joined_count = min(self.sizes.users, max(1, joined_count))
        for _ in range(AUTHOR_DRAW_ATTEMPTS):
            author = self._author_by_rank[self._authors.sample(self._rng)]
            if author < joined_count:
                return author

        # Early in the year few users exist and most draws miss them.
        return self._rng.randrange(joined_count)

    def _favorite_rows(self, article_id: int, created: float, rank: int) -> list[Row]:
        count = self._favorites.draw(rank, self._rng)
        return [
            (
                self._first_user_id + user,
                article_id,
                self._encode(self._time_after(max(created, self._joined[user]))),
            )
            for user in self._distinct_active_users(count)
        ]

    def _comment_rows(self, article_id: int, created: float, rank: int) -> list[Row]:
        count = self._comments.draw(rank, self._rng)
        comments = []
        for _ in range(count):
            author = self._active_by_rank[self._active_users.sample(self._rng)]
            posted = self._time_after(max(created, self._joined[author]))
            comments.append((posted, author, self._text.comment(self._rng)))

        # Ids then follow time within an article, as they would in production.
        comments.sort()
        rows = []
        for posted, author, body in comments:
            timestamp = self._encode(posted)
            rows.append(
                (article_id, self._first_user_id + author, body, timestamp, timestamp)
            )

        return rows

    def _distinct_active_users(self, count: int) -> Iterator[int]:
        """Return `count` different users, the active ones more likely."""
        users = self.sizes.users
        if count * 8 > users:
            # Rejection would mostly redraw the same active users here.
            return iter(self._rng.sample(range(users), count))

        chosen: set[int] = set()
        for _ in range(4 * count + 16):
            if len(chosen) == count:
                break

            chosen.add(self._active_by_rank[self._active_users.sample(self._rng)])

        while len(chosen) < count:
            chosen.add(self._rng.randrange(users))

        return iter(chosen)

    def _pick_tags(self) -> list[int]:
        tag_count = self._rng.choices(
            range(1, len(TAG_COUNT_WEIGHTS) + 1), cum_weights=TAG_COUNT_CUMULATIVE
        )[0]
        tag_count = min(tag_count, len(self._tag_ids))
        ranks: set[int] = set()
        for _ in range(8 * tag_count):
            if len(ranks) == tag_count:
                break

            ranks.add(self._tags.sample(self._rng))

        while len(ranks) < tag_count:
            ranks.add(self._rng.randrange(len(self._tag_ids)))

        return [self._tag_ids[rank] for rank in sorted(ranks)]

    def _time_after(self, since: float) -> float:
        """Return a time in [since + 1 s, now), early times more likely."""
        fraction = self._rng.random()
        return since + 1.0 + (self._now - since - 1.0) * fraction * fraction
