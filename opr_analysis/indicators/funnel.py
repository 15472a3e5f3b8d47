"""Funnel-plot control limits for share indicators, plain and overdispersion-adjusted.

Units' shares ``y_i/n_i`` are compared with the registry mean
``p0 = Σy/Σn``. Plain limits (normal approximation to the binomial):
``p0 ± z·sqrt(p0(1−p0)/n)`` for 95 % (z = 1.960) and 99.8 % (z = 3.090).

Overdispersion (Spiegelhalter 2005, *Handling over-dispersion of performance
indicators*, additive random effects; as FunnelPlotR): each unit's z-score
``z_i = (p_i − p0)/s_i`` with ``s_i² = p0(1−p0)/n_i`` is winsorised at the
``winsorise`` and ``1 − winsorise`` quantiles (default 10 %, FunnelPlotR's
default; 0 turns it off); ``φ = Σz_i²/I``. When ``I·φ`` exceeds the 95 %
quantile of χ² with I−1 degrees of freedom the units vary more than chance
allows, and the between-unit variance
``τ² = max(0, (I·φ − (I−1)) / (Σw_i − Σw_i²/Σw_i))``, ``w_i = 1/s_i²``,
widens the limits to ``p0 ± z·sqrt(p0(1−p0)/n + τ²)``. Otherwise the plain
limits are drawn. :func:`funnel_limits` says which it drew (``adjusted``).
Limits are clipped to 0-1. Units with ``n = 0`` are left out.

>>> fl = funnel_limits([10, 30], [100, 100], winsorise=0)
>>> round(fl.target, 2), fl.adjusted
(0.2, True)
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
        """Lower and upper limits at denominators ``n`` for a two-sided ``level`` (0.95, 0.998)."""
        n = np.asarray(n, dtype=float)
        z = stats.norm.ppf(1 - (1 - level) / 2)
        var = self.target * (1 - self.target) / n + (self.tau2 if self.adjusted else 0.0)
        half = z * np.sqrt(var)
        return np.clip(self.target - half, 0, 1), np.clip(self.target + half, 0, 1)

    def curve(self, n_max: float, points: int = 200) -> pd.DataFrame:
        """n, level, low, high on a grid from 1 to ``n_max`` (for plotting)."""
        n = np.unique(np.round(np.geomspace(1, max(n_max, 2), points), 3))
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
        return "Kontrollgrenser 95 % og 99,8 % rundt registersnittet (binomisk normaltilnærming, ikke justert)."


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
