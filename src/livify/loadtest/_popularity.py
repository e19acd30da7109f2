"""Zipf-like popularity over ranked items.

The item of rank r (from 0) is picked with weight 1 / (r + 1) ** exponent.
With an exponent near 1, a few items draw most of the traffic and a long tail
shares the rest, as reads of articles, tags and authors do on community sites.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_EXPONENT = 1.0


class Popularity(Generic[T]):
    """Pick items, ranked most popular first, with Zipf-like weights."""

    def __init__(
        self, items: Sequence[T], *, exponent: float = DEFAULT_EXPONENT
    ) -> None:
        self.items = list(items)
        self._cumulative = list(
            itertools.accumulate(
                (rank + 1) ** -exponent for rank in range(len(self.items))
            )
        )

    def __len__(self) -> int:
        return len(self.items)

    def pick(self, rng: random.Random) -> T:
        """Return one item; raises IndexError when there are none."""
        if not self.items:
            msg = "cannot pick from an empty popularity ranking"
            raise IndexError(msg)
        return rng.choices(self.items, cum_weights=self._cumulative)[0]
