"""The Universal Scalability Law (Gunther) and its least-squares fit.

    X(N) = lam * N / (1 + sigma * (N - 1) + kappa * N * (N - 1))

X is throughput at concurrency N, and `lam` is the throughput of one unit
of concurrency without interference. `sigma` is the contention: the serial
share of the work, which caps throughput. `kappa` is the coherency cost: the
crosstalk between concurrent work, which makes throughput fall past a peak.
With kappa > 0 the peak is at N* = sqrt((1 - sigma) / kappa).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from livify.capacity._exceptions import NotEnoughData

MIN_POINTS = 3
MAX_FIT_EVALUATIONS = 20_000


def usl_throughput(concurrency: float, lam: float, sigma: float, kappa: float) -> float:
    """Return X(N) of the Universal Scalability Law."""
    n = concurrency
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


@dataclass(frozen=True)
class UslFit:
    """Fitted parameters, and how well they explain the points (`r_squared`)."""

    lam: float
    sigma: float
    kappa: float
    r_squared: float
    points: int

    def throughput(self, concurrency: float) -> float:
        return usl_throughput(concurrency, self.lam, self.sigma, self.kappa)

    @property
    def peak_concurrency(self) -> float:
        """Return N* where throughput peaks; infinity when kappa is 0."""
        if self.kappa <= 0:
            return math.inf
        return math.sqrt(max(1 - self.sigma, 0.0) / self.kappa)

    @property
    def peak_throughput(self) -> float:
        """Return X(N*), or the asymptote lam / sigma when there is no peak."""
        if math.isinf(self.peak_concurrency):
            return self.lam / self.sigma if self.sigma > 0 else math.inf
        return self.throughput(self.peak_concurrency)


def fit_usl(concurrency: Sequence[float], throughput: Sequence[float]) -> UslFit:
    """Fit the law to measured (N, X) points by bounded least squares (scipy).

    `lam` is bounded below by 0 and `sigma` and `kappa` lie in [0, 1].
    Raises NotEnoughData with fewer than three points of positive N and X,
    and ValueError when the sequences differ in length.
    """
    if len(concurrency) != len(throughput):
        msg = (
            f"got {len(concurrency)} concurrency values but "
            f"{len(throughput)} throughputs"
        )
        raise ValueError(msg)

    pairs = [
        (n, x) for n, x in zip(concurrency, throughput, strict=True) if n > 0 and x > 0
    ]
    if len(pairs) < MIN_POINTS:
        msg = (
            f"the fit needs at least {MIN_POINTS} points with load and "
            f"throughput, got {len(pairs)}"
        )
        raise NotEnoughData(msg)

    # scipy belongs to the optional `loadtest` extra.
    import numpy as np
    from scipy.optimize import curve_fit  # type: ignore[import-untyped]

    n_values = np.array([n for n, _ in pairs], dtype=float)
    x_values = np.array([x for _, x in pairs], dtype=float)
    lam_guess = float(np.max(x_values / n_values))
    parameters, _ = curve_fit(
        usl_throughput,
        n_values,
        x_values,
        p0=(lam_guess, 0.01, 0.0001),
        bounds=((0.0, 0.0, 0.0), (np.inf, 1.0, 1.0)),
        maxfev=MAX_FIT_EVALUATIONS,
    )
    lam, sigma, kappa = (float(value) for value in parameters)
    predicted = usl_throughput(n_values, lam, sigma, kappa)  # type: ignore[arg-type]
    residual = float(np.sum((x_values - predicted) ** 2))
    spread = float(np.sum((x_values - np.mean(x_values)) ** 2))
    r_squared = 1 - residual / spread if spread > 0 else 1.0
    return UslFit(lam, sigma, kappa, r_squared, len(pairs))
