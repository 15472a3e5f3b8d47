"""Funnel-plot control limits for share indicators, plain and overdispersion-adjusted.

Units' shares ``y_i/n_i`` are compared with the registry mean ``p0 = Σy/Σn``.

Plain limits: exact binomial (Spiegelhalter 2005, *Funnel plots for comparing
institutional performance*, Stat Med 24:1185, appendix A.1.1; as FunnelPlotR
draws them). For a two-sided level with tail ``q`` (0.025 and 0.975 at 95 %;
0.001 and 0.999 at 99.8 %), ``r`` is the ``q`` quantile of Binomial(n, p0) (the
smallest r with ``F(r) ≥ q``), interpolated between the integers so that the
limit runs smoothly in n:

    α = (F(r) − q) / (F(r) − F(r − 1)),    limit = (r − α) / n.

The normal approximation ``p0 ± z·sqrt(p0(1−p0)/n)`` (used before issue 24) is
far off at small n: at n = 12 and p0 = 0.291 its lower 95 % limit is 3.4 %
against 0.9 % exact, so a small unit was flagged for chance alone.

Overdispersion (Spiegelhalter 2005, *Handling over-dispersion of performance
indicators*, additive random effects; as FunnelPlotR): each unit's z-score
``z_i = (p_i − p0)/s_i`` with ``s_i² = p0(1−p0)/n_i`` is winsorised at the
``winsorise`` and ``1 − winsorise`` quantiles (default 10 %, FunnelPlotR's
default; 0 turns it off); ``φ = Σz_i²/I``. When ``I·φ`` exceeds the 95 %
quantile of χ² with I−1 degrees of freedom the units vary more than chance
allows, and the between-unit variance
``τ² = max(0, (I·φ − (I−1)) / (Σw_i − Σw_i²/Σw_i))``, ``w_i = 1/s_i²``,
widens the limits to ``p0 ± z·sqrt(p0(1−p0)/n + τ²)``. That additive limit is
a normal one; at small n it can be *narrower* than the exact plain limit (the
binomial is skewed there), which would make adjusting for extra variation
flag more units, not fewer. Each adjusted limit is therefore the wider of the
two: ``min`` of the lower limits and ``max`` of the upper ones. Otherwise the
plain limits are drawn. :func:`funnel_limits` says which it drew
(``adjusted``). Limits are clipped to 0-1. Units with ``n = 0`` are left out;
limits are defined for whole n (denominators are counts).

>>> fl = funnel_limits([10, 30], [100, 100], winsorise=0)
>>> round(fl.target, 2), fl.adjusted
(0.2, True)
>>> low, high = Funnel(0.291, float("nan"), 0.0, False, 1).limits([12], 0.95)
>>> round(float(low[0]), 4), round(float(high[0]), 4)
(0.0093, 0.526)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LEVELS = (0.95, 0.998)


@dataclass(frozen=True)
class Funnel:
    """The registry mean, the dispersion estimate and whether limits were widened."""

    target: float
    phi: float
    tau2: float
    adjusted: bool
    n_units: int

    def limits(self, n, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits at denominators ``n`` for a two-sided ``level`` (0.95, 0.998): exact binomial,
        or, when adjusted, the wider of those and the additive random-effects limits (module docstring)."""
        n = np.asarray(n, dtype=float)
        tail = (1 - level) / 2
        low, high = binomial_limit(self.target, n, tail), binomial_limit(self.target, n, 1 - tail)
        if self.adjusted:
            half = stats.norm.ppf(1 - tail) * np.sqrt(self.target * (1 - self.target) / n + self.tau2)
            low, high = np.minimum(low, self.target - half), np.maximum(high, self.target + half)
        return np.clip(low, 0, 1), np.clip(high, 0, 1)

    def curve(self, n_max: float, points: int = 200) -> pd.DataFrame:
        """n, level, low, high on a grid of whole numbers from 1 to ``n_max`` (for plotting)."""
        n = np.unique(np.round(np.geomspace(1, max(n_max, 2), points)))
        parts = []
        for level in LEVELS:
            low, high = self.limits(n, level)
            parts.append(pd.DataFrame({"n": n, "level": level, "low": low, "high": high}))
        return pd.concat(parts, ignore_index=True)

    @property
    def description(self) -> str:
        """Which limits are drawn, in Norwegian (for the figure's caption)."""
        if self.adjusted:
            return (
                "Kontrollgrenser 95 % og 99,8 % rundt registersnittet, justert for overdispersjon "
                "(Spiegelhalters additive tilfeldige effekter) fordi enhetene varierer mer enn tilfeldighet tilsier."
            )
        return "Kontrollgrenser 95 % og 99,8 % rundt registersnittet (eksakte binomiske grenser, ikke justert)."


def binomial_limit(p0: float, n, q: float) -> np.ndarray:
    """The interpolated ``q`` quantile of Binomial(n, p0) as a share (Spiegelhalter 2005; module docstring).

    >>> round(float(binomial_limit(0.291, 12, 0.025)), 4)  # r = 1: F(1) = 0.0956, F(0) = 0.0161
    0.0093
    """
    n = np.asarray(n, dtype=float)
    r = stats.binom.ppf(q, n, p0)
    at_r, below = stats.binom.cdf(r, n, p0), stats.binom.cdf(r - 1, n, p0)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(at_r > below, (at_r - q) / (at_r - below), 0.0)
        return (r - alpha) / n


def funnel_limits(numerators, denominators, winsorise: float = 0.1, overdispersion: bool = True) -> Funnel:
    """The :class:`Funnel` for units with these numerators and denominators (module docstring)."""
    y = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    ok = n > 0
    y, n = y[ok], n[ok]
    units = len(n)
    if units == 0 or n.sum() == 0:
        return Funnel(np.nan, np.nan, 0.0, False, 0)
    p0 = y.sum() / n.sum()
    if not overdispersion or units < 2 or p0 in (0.0, 1.0):
        return Funnel(float(p0), np.nan, 0.0, False, units)
    s2 = p0 * (1 - p0) / n
    z = (y / n - p0) / np.sqrt(s2)
    if winsorise > 0:
        lo, hi = np.quantile(z, [winsorise, 1 - winsorise])
        z = np.clip(z, lo, hi)
    phi = float(np.sum(z**2) / units)
    w = 1 / s2
    over = units * phi > stats.chi2.ppf(0.95, units - 1)
    tau2 = max(0.0, (units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum())) if over else 0.0
    return Funnel(float(p0), phi, float(tau2), bool(over and tau2 > 0), units)
