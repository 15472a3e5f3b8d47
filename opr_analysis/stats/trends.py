"""Tests for trend over years: binomial logistic regression on year (statsmodels GLM).

For grouped counts (successes k_y of n_y trials in year y) the model is
``logit P(success) = a + b·(year − first year)``, fitted by maximum likelihood
(statsmodels ``GLM`` with a ``Binomial`` family on [successes, failures]).
Reported: the odds ratio per year ``exp(b)`` with its 95 % Wald limits, and the
two-sided Wald p-value for ``b = 0``. Years with no trials are left out. With
fewer than two such years, or when the fit is impossible (every trial a
success, or none), the test is blank.

Applied to the rejection share (table 10) and to the patient-level baseline
response share (issue 3.3); the seed's forms-per-enrolment rate is not a
proportion (it can exceed 1), so it is not tested.
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
]  # fmt: skip
METHOD = "logistisk regresjon på år (binomisk GLM, Wald-test)"


def trend_test(frame: pd.DataFrame, successes: str, trials: str, indicator: str, year: str = "year") -> pd.DataFrame:
    """One-row trend test of ``successes / trials`` over ``year`` (see module docstring).

    >>> f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [10, 20, 30], "n": [100, 100, 100]})
    >>> t = trend_test(f, "k", "n", "x")
    >>> round(float(t["odds_ratio_per_year"][0]), 3)
    1.925
    """
    f = frame[[year, successes, trials]].dropna()
    f = f[f[trials].astype("float64") > 0]
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
            low, high = fit.conf_int(alpha=0.05)[1]
            row.update(
                odds_ratio_per_year=float(np.exp(fit.params[1])),
                odds_ratio_ci_low=float(np.exp(low)),
                odds_ratio_ci_high=float(np.exp(high)),
                p_value=float(fit.pvalues[1]),
            )
    return pd.DataFrame([row], columns=TREND_COLUMNS)


def trend_tests(reg) -> pd.DataFrame:
    """Trend tests for the rejection share and the patient-level baseline response share."""
    return pd.concat(
        [
            trend_test(referrals_assessed(reg), "rejected", "assessed", "rejected_share"),
            trend_test(
                baseline_response_patient_level(reg),
                "enrolments_with_baseline",
                "enrolments",
                "baseline_response_share_patient_level",
            ),
        ],
        ignore_index=True,
    )
