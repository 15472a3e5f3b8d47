"""Tests for trend over years: binomial logistic regression on year, with overdispersion.

For grouped counts (successes k_y of n_y trials in year y) the model is
``logit P(success) = a + b·(year − first year)``, fitted by maximum likelihood
(statsmodels ``GLM`` with a ``Binomial`` family on [successes, failures]).

Overdispersion. Year-level registry counts vary more between years than a
binomial model allows (case mix, staffing, a changed routine). The Pearson
dispersion ``φ = χ²_P / df`` (``χ²_P = Σ (k − n·p̂)² / (n·p̂·(1 − p̂))``,
``df = years − 2``) measures it. When ``φ > 1`` the standard error of ``b`` is
multiplied by ``√φ`` (quasi-binomial), and the 95 % Wald limits and the
two-sided p value use that standard error with normal quantiles. statsmodels'
``fit(scale="X2")`` is not used: with a two-column binomial response it does
not rescale the standard errors this way (tests check the numbers against a
hand computation). With two years ``df = 0``: no dispersion can be estimated,
``dispersion`` is blank and the plain binomial errors are used.

Reported: the odds ratio per year ``exp(b)`` with its 95 % limits, the p value
for ``b = 0`` and the dispersion. Years with no trials are left out. With
fewer than two such years, or when the fit is impossible (every trial a
success, or none), the test is blank.

Series and their first year (:data:`SERIES`). A series starts at the first
full year of its data source; earlier (partial) years are left out and the
reason is stated in ``start_reason``. The baseline series starts 2021: the
questionnaire service (Nettskjema) started in December 2020, so 2020 holds one
month. The rejection share comes from the DIPS referral log, which covers
whole years: it starts at the first year in the data. The seed's
forms-per-enrolment rate is not a proportion (it can exceed 1) and is not tested.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

# The GLM module itself rather than statsmodels.api: the api also loads the formula stack,
# which costs every `opr tables` run half a second of start-up.
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.tools import add_constant

from ..extract.needs import reads
from .baseline import baseline_response_patient_level
from .referrals import referrals_assessed

TREND_COLUMNS = [
    "indicator", "first_year", "last_year", "years", "trials", "successes",
    "odds_ratio_per_year", "odds_ratio_ci_low", "odds_ratio_ci_high", "p_value", "method",
    "dispersion", "start_reason",
]  # fmt: skip
METHOD = "logistisk regresjon på år (binomisk GLM, Wald-test)"
METHOD_QUASI = "logistisk regresjon på år (kvasibinomisk: standardfeil skalert med √(χ²/df), Wald-test)"

#: Per series: (first year, reason), the configuration of the series' first full year.
#: ``None``: the first year in the data.
SERIES: dict[str, tuple[int | None, str]] = {
    "rejected_share": (None, "henvisningsloggen i DIPS dekker hele kalenderår"),
    "baseline_response_share_patient_level": (
        2021,
        "spørreskjematjenesten (Nettskjema) startet i desember 2020, så 2020 er et delår",
    ),
}

#: Dispersion above this is called poor fit in the report's sentence.
POOR_FIT_DISPERSION = 2.0


def trend_test(
    frame: pd.DataFrame,
    successes: str,
    trials: str,
    indicator: str,
    year: str = "year",
    first_year: int | None = None,
    start_reason: str = "",
) -> pd.DataFrame:
    """One-row trend test of ``successes / trials`` over ``year`` (see module docstring).

    Years before ``first_year`` are left out (``start_reason`` says why).

    >>> f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [10, 20, 30], "n": [100, 100, 100]})
    >>> t = trend_test(f, "k", "n", "x")
    >>> round(float(t["odds_ratio_per_year"][0]), 3), round(float(t["dispersion"][0]), 3)
    (1.925, 0.181)
    """
    f = frame[[year, successes, trials]].dropna()
    f = f[f[trials].astype("float64") > 0]
    if first_year is not None:
        f = f[f[year].astype("int64") >= int(first_year)]
    k = f[successes].astype("float64").to_numpy()
    n = f[trials].astype("float64").to_numpy()
    yrs = f[year].astype("int64").to_numpy()
    row = {
        "indicator": indicator,
        "first_year": int(yrs.min()) if len(yrs) else pd.NA,
        "last_year": int(yrs.max()) if len(yrs) else pd.NA,
        "years": int(len(yrs)),
        "trials": int(n.sum()),
        "successes": int(k.sum()),
        "odds_ratio_per_year": np.nan,
        "odds_ratio_ci_low": np.nan,
        "odds_ratio_ci_high": np.nan,
        "p_value": np.nan,
        "method": METHOD,
        "dispersion": np.nan,
        "start_reason": start_reason,
    }
    if len(yrs) >= 2 and 0 < k.sum() < n.sum() and np.all(k <= n):
        exog = add_constant((yrs - yrs.min()).astype("float64"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = GLM(np.column_stack([k, n - k]), exog, family=families.Binomial()).fit()
            except Exception:  # perfect separation or no convergence: leave blank
                fit = None
        # a separated fit (huge slope, huge standard error) says nothing: leave it blank
        if fit is not None and np.isfinite(fit.bse[1]) and fit.bse[1] < 10:
            row.update(_wald(fit.params[1], fit.bse[1], _dispersion(k, n, fit.mu, len(yrs) - 2)))
    return pd.DataFrame([row], columns=TREND_COLUMNS)


def _dispersion(k: np.ndarray, n: np.ndarray, p: np.ndarray, df: int) -> float:
    """Pearson χ² / df of a grouped binomial fit (NaN when df < 1)."""
    if df < 1:
        return np.nan
    chi2 = float(np.sum((k - n * p) ** 2 / (n * p * (1 - p))))
    return chi2 / df


def _wald(b: float, se: float, dispersion: float) -> dict:
    """Odds ratio, 95 % limits and p from slope ``b``; ``se`` scaled by √dispersion when it exceeds 1."""
    quasi = np.isfinite(dispersion) and dispersion > 1
    se = se * np.sqrt(dispersion) if quasi else se
    z = stats.norm.ppf(0.975)
    return {
        "odds_ratio_per_year": float(np.exp(b)),
        "odds_ratio_ci_low": float(np.exp(b - z * se)),
        "odds_ratio_ci_high": float(np.exp(b + z * se)),
        "p_value": float(2 * stats.norm.sf(abs(b) / se)),
        "method": METHOD_QUASI if quasi else METHOD,
        "dispersion": float(dispersion),
    }


def series_test(frame: pd.DataFrame, successes: str, trials: str, indicator: str) -> pd.DataFrame:
    """:func:`trend_test` of a configured series (:data:`SERIES`): its first year and reason applied."""
    first, reason = SERIES.get(indicator, (None, ""))
    return trend_test(frame, successes, trials, indicator, first_year=first, start_reason=reason)


@reads(referrals_assessed, baseline_response_patient_level)
def trend_tests(reg) -> pd.DataFrame:
    """Trend tests for the rejection share and the patient-level baseline response share."""
    return pd.concat(
        [
            series_test(referrals_assessed(reg), "rejected", "assessed", "rejected_share"),
            series_test(
                baseline_response_patient_level(reg),
                "enrolments_with_baseline",
                "enrolments",
                "baseline_response_share_patient_level",
            ),
        ],
        ignore_index=True,
    )
