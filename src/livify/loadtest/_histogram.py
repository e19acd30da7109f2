"""Latency histograms on HdrHistogram, recorded in microseconds.

HdrHistogram keeps every value within 0.1% (three significant digits) in a
fixed array of counters, so two histograms merge by adding their counters.
A percentile of merged histograms is therefore exact to that precision, which
averaging the percentiles of several workers never is.
"""

from __future__ import annotations

from collections.abc import Iterable

LOWEST_MICROSECONDS = 1
# Far above the client's request timeout; longer values are clamped to it.
HIGHEST_MICROSECONDS = 120_000_000
SIGNIFICANT_FIGURES = 3
MICROSECONDS_PER_SECOND = 1_000_000
REPORTED_PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


# Timelines keep one histogram per interval, so they trade precision (1%)
# for memory: 21 KB of counters per histogram instead of 147 KB.
TIMELINE_SIGNIFICANT_FIGURES = 2


class LatencyHistogram:
    """Latencies in seconds from 1 µs to 120 s, to `significant_figures` digits.

    Values above 120 s are recorded as 120 s and negative values as 0. Two
    histograms merge only when they have the same `significant_figures`.
    """

    def __init__(self, *, significant_figures: int = SIGNIFICANT_FIGURES) -> None:
        # hdrhistogram belongs to the optional `loadtest` extra.
        from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

        self.significant_figures = significant_figures
        self._hdr = HdrHistogram(
            LOWEST_MICROSECONDS, HIGHEST_MICROSECONDS, significant_figures
        )

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count())

    def record(self, seconds: float, count: int = 1) -> None:
        """Add `count` samples of `seconds`."""
        microseconds = round(seconds * MICROSECONDS_PER_SECOND)
        microseconds = min(max(microseconds, 0), HIGHEST_MICROSECONDS)
        self._hdr.record_value(microseconds, count)

    def merge(self, other: LatencyHistogram) -> None:
        """Add every sample of `other` to this histogram.

        Raises ValueError when the two keep different significant figures.
        """
        if other.significant_figures != self.significant_figures:
            msg = (
                f"cannot merge a histogram of {other.significant_figures} "
                f"significant figures into one of {self.significant_figures}"
            )
            raise ValueError(msg)

        if other.count:
            self._hdr.add(other._hdr)

    def percentile_seconds(self, percentile: float) -> float:
        """Return the latency at `percentile` (0 to 100), or 0.0 when empty."""
        if not self.count:
            return 0.0
        return (
            float(self._hdr.get_value_at_percentile(percentile))
            / MICROSECONDS_PER_SECOND
        )

    def percentiles_seconds(self, percentiles: Iterable[float]) -> dict[float, float]:
        """Return the latency at each percentile in one pass over the counters."""
        wanted = list(percentiles)
        if not self.count:
            return dict.fromkeys(wanted, 0.0)

        values = self._hdr.get_percentile_to_value_dict(wanted)
        return {
            percentile: float(values[percentile]) / MICROSECONDS_PER_SECOND
            for percentile in wanted
        }

    @property
    def max_seconds(self) -> float:
        if not self.count:
            return 0.0
        return float(self._hdr.get_max_value()) / MICROSECONDS_PER_SECOND

    @property
    def mean_seconds(self) -> float:
        if not self.count:
            return 0.0
        return float(self._hdr.get_mean_value()) / MICROSECONDS_PER_SECOND

    def encode(self) -> str:
        """Return the compressed, base64 form that `decode` reads back."""
        encoded: bytes = self._hdr.encode()
        return encoded.decode("ascii")

    @classmethod
    def decode(cls, encoded: str) -> LatencyHistogram:
        """Rebuild a histogram from `encode`'s output."""
        from hdrh.histogram import HdrHistogram

        hdr = HdrHistogram.decode(encoded.encode("ascii"))
        histogram = cls(significant_figures=int(hdr.significant_figures))
        histogram._hdr = hdr
        return histogram


def merge_histograms(
    histograms: Iterable[LatencyHistogram],
    *,
    significant_figures: int = SIGNIFICANT_FIGURES,
) -> LatencyHistogram:
    """Return one histogram holding the samples of all `histograms`."""
    merged = LatencyHistogram(significant_figures=significant_figures)
    for histogram in histograms:
        merged.merge(histogram)
    return merged
