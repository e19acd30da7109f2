"""Zipf-like popularity: rank r (from 0) has weight 1 / (r + 1) ** exponent.

With an exponent near 1, a handful of top ranks take a large share of all
draws and a long tail shares the rest, as views, favorites and followers do on
real community sites.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random


def zipf_weight(rank: int, exponent: float) -> float:
    return float((rank + 1) ** -exponent)


class ZipfSampler:
    """Draw single ranks in `[0, size)` with Zipf weights.

    Keeps the cumulative weights (one float per rank) and draws by bisection,
    so a draw costs O(log size).
    """

    def __init__(self, size: int, exponent: float) -> None:
        if size < 1:
            msg = f"size must be at least 1, got {size!r}"
            raise ValueError(msg)

        self.size = size
        self._cumulative = list(
            itertools.accumulate(zipf_weight(rank, exponent) for rank in range(size))
        )
        self._total = self._cumulative[-1]

    def sample(self, rng: random.Random) -> int:
        rank = bisect.bisect_right(self._cumulative, rng.random() * self._total)
        return min(rank, self.size - 1)


class ZipfAllocation:
    """Share `total` items among `size` ranks by Zipf weight, at most `cap` each.

    A rank whose share would pass `cap` gets `cap`, and the excess goes to the
    other ranks in proportion to their weights. The shares add up to `total`
    unless `total` is more than `size * cap`, in which case every rank gets
    `cap`. Use `draw` for a whole number of items whose mean is the share.
    """

    def __init__(
        self, size: int, total: float, exponent: float, cap: float = math.inf
    ) -> None:
        if size < 1:
            msg = f"size must be at least 1, got {size!r}"
            raise ValueError(msg)

        if total < 0 or cap < 0:
            msg = f"total and cap must not be negative, got {total!r} and {cap!r}"
            raise ValueError(msg)

        self.size = size
        self.cap = cap
        self._exponent = exponent
        self._capped_ranks, self._scale = self._fill(size, total, exponent, cap)

    def share(self, rank: int) -> float:
        """Return the expected number of items for `rank`."""
        if rank < self._capped_ranks:
            return self.cap

        return self._scale * zipf_weight(rank, self._exponent)

    def draw(self, rank: int, rng: random.Random) -> int:
        """Round the share of `rank` up or down at random, keeping its mean."""
        share = self.share(rank)
        count = math.floor(share)
        if rng.random() < share - count:
            count += 1

        return int(min(count, self.cap))

    @staticmethod
    def _fill(
        size: int, total: float, exponent: float, cap: float
    ) -> tuple[int, float]:
        """Return how many top ranks are capped and the scale for the rest."""
        if total >= size * cap:
            return size, 0.0

        remaining_weight = math.fsum(
            zipf_weight(rank, exponent) for rank in range(size)
        )
        remaining_total = total
        capped = 0
        # Weights fall with rank, so once the largest uncapped share fits
        # under the cap, every later one does too.
        while capped < size and remaining_weight > 0:
            scale = remaining_total / remaining_weight
            weight = zipf_weight(capped, exponent)
            if scale * weight <= cap:
                return capped, scale

            remaining_total -= cap
            remaining_weight -= weight
            capped += 1

        # Only rounding in the running sums gets here.
        return capped, 0.0
