"""Tests for trend over years: quasi-binomial logistic regression on year, t-based inference.

For grouped counts (successes k_y of n_y trials in year y) the model is
``logit P(success) = a + b·(year − first year)``, fitted by maximum likelihood
(statsmodels ``GLM``, ``Binomial`` family, the yearly shares ``k/n`` as the
response with ``var_weights = n``).

Overdispersion and small samples. Year-level registry counts vary more between
years than a binomial model allows (case mix, staffing, a changed routine), and
a series has only 3–6 yearly points. The inference is therefore R's
``summary.glm`` for a quasi-binomial family:

- the dispersion is Pearson's ``φ = χ²_P / df`` with
  ``χ²_P = Σ (k − n·p̂)² / (n·p̂·(1 − p̂))`` and ``df = df_resid = years − 2``;
- the standard error of ``b`` is the binomial one times ``√φ``;
- the 95 % Wald limits and the two-sided p value use the t distribution with
  ``df_resid`` degrees of freedom, not the normal: φ is estimated from the
  same few points, and t(df) carries that uncertainty (with 1 df the 97.5 %
  quantile is 12.7, not 1.96).

statsmodels does exactly this with ``fit(scale="X2", use_t=True)`` on the
proportion response with ``var_weights`` (tests check it against a hand
computation and R's figures). It does *not* do it on a two-column
[successes, failures] response, whose ``X2`` scale is computed on the wrong
scale, so that form is not used. As in R, φ is used as estimated, also when it
is below 1: flooring it at 1 would make the statistic neither binomial nor t.

How many years a test needs. With two years (``df_resid = 0``) φ cannot be
estimated; the row gives the binomial fit (normal quantiles, ``dispersion``
blank), which only compares the two years. With three years (``df_resid = 1``)
the t-based figures are in the table, but a single degree of freedom cannot
separate a trend from year-to-year variation: :data:`MIN_TREND_DF` is 2, and the
report's sentence says so instead of quoting a p value (:func:`too_few_years`).

Worked example (the held-out seed extract, rejected share 2021–2023:
691/2299, 797/2339, 951/2080): φ = 7.95 on 1 df; odds ratio per year 1.40 with
t(1) limits 0.45–4.39 and p = 0.17 (the normal-quantile limits were
1.18–1.67 with p = 0.00016).

Reported: the odds ratio per year ``exp(b)`` with its 95 % limits, the p value
for ``b = 0``, the dispersion and ``df_resid``. Years with no trials are left
out. With fewer than two such years, or when the fit is impossible (every
trial a success, or none; a separated fit), the test is blank.

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

# The GLM module itself rather than statsmodels.api: the api also loads the formula stack,
# which costs every `opr tables` run half a second of start-up.
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.tools import add_constant

from .baseline import baseline_response_patient_level
from .referrals import referrals_assessed

TREND_COLUMNS = [
    "indicator", "first_year", "last_year", "years", "trials", "successes",
    "odds_ratio_per_year", "odds_ratio_ci_low", "odds_ratio_ci_high", "p_value", "method",
    "dispersion", "df_resid", "start_reason",
]  # fmt: skip
METHOD = "logistisk regresjon på år (binomisk: to år gir ingen frihetsgrader til å anslå spredningen; normalfordeling)"
METHOD_QUASI = (
    "kvasibinomisk logistisk regresjon på år (standardfeil skalert med √(χ²/df); Wald-intervall og p-verdi "
    "fra t-fordelingen med df = antall år − 2)"
)

#: Residual degrees of freedom a series needs before the report quotes a trend test: with fewer
#: (three years or less), a trend cannot be told from year-to-year variation.
MIN_TREND_DF = 2

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

    >>> f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [691, 797, 951], "n": [2299, 2339, 2080]})
    >>> t = trend_test(f, "k", "n", "x").iloc[0]
    >>> [round(float(t[c]), 2) for c in ("odds_ratio_per_year", "odds_ratio_ci_low", "odds_ratio_ci_high",
    ...                                  "p_value", "dispersion")], int(t["df_resid"])
    ([1.4, 0.45, 4.39, 0.17, 7.95], 1)
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
        "df_resid": pd.NA,
        "start_reason": start_reason,
    }
    if len(yrs) >= 2 and 0 < k.sum() < n.sum() and np.all(k <= n):
        row.update(_fit(k, n, yrs))
    return pd.DataFrame([row], columns=TREND_COLUMNS).astype({"df_resid": "Int64"})


def _fit(k: np.ndarray, n: np.ndarray, yrs: np.ndarray) -> dict:
    """The fitted columns: quasi-binomial with t(df_resid) when df_resid ≥ 1, else binomial (module docstring)."""
    exog = add_constant((yrs - yrs.min()).astype("float64"))
    model = GLM(k / n, exog, family=families.Binomial(), var_weights=n)
    df_resid = len(yrs) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = model.fit(scale="X2", use_t=True) if df_resid >= 1 else model.fit()
        except Exception:  # no convergence: leave blank
            return {}
    # a separated fit (huge slope, huge binomial standard error) says nothing: leave it blank
    binomial_se = float(np.sqrt(fit.cov_params(scale=1.0)[1, 1]))
    if not (np.isfinite(binomial_se) and binomial_se < 10):
        return {}
    out = {
        "odds_ratio_per_year": float(np.exp(fit.params[1])),
        "method": METHOD_QUASI if df_resid >= 1 else METHOD,
        "dispersion": float(fit.scale) if df_resid >= 1 else np.nan,
        "df_resid": df_resid,
    }
    if fit.scale > 1e-10:  # points exactly on the fitted curve (χ² = 0) leave no variance to test against
        low, high = fit.conf_int(alpha=0.05)[1]
        out |= {"odds_ratio_ci_low": float(np.exp(low)), "odds_ratio_ci_high": float(np.exp(high))}
        out["p_value"] = float(fit.pvalues[1])
    return out


def too_few_years(test) -> bool:
    """True when a trend test row has fewer than :data:`MIN_TREND_DF` residual degrees of freedom (or none)."""
    df = test["df_resid"]
    return bool(pd.isna(df) or int(df) < MIN_TREND_DF)


def series_test(frame: pd.DataFrame, successes: str, trials: str, indicator: str) -> pd.DataFrame:
    """:func:`trend_test` of a configured series (:data:`SERIES`): its first year and reason applied."""
    first, reason = SERIES.get(indicator, (None, ""))
    return trend_test(frame, successes, trials, indicator, first_year=first, start_reason=reason)


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
