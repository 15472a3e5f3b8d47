"""Sentences for the report's prose, built from the package's statistics.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [300, 400, 500], "n": [1000, 1000, 1000]})
>>> trend_sentence(f, "k", "n", "x", "Andelen avviste", last_year=2023).replace("\\u00a0", " ")
'Andelen avviste økte fra 2021 til 2023 (oddsratio per år 1,53; 95 % KI 1,39–1,67; p < 0,001; logistisk regresjon på år).'
"""

from __future__ import annotations

import pandas as pd

from ..formatting import fmt_trend
from ..stats.trends import trend_test


def trend_sentence(frame: pd.DataFrame, successes: str, trials: str, share: str, subject: str, last_year: int) -> str:
    """One sentence on the trend of ``successes / trials`` over the years up to ``last_year``.

    The test is :func:`~opr_analysis.stats.trends.trend_test` (logistic regression
    on year); a trend is called a rise or fall only when p < 0,05. Empty when the
    test cannot be made (fewer than two years, or no variation).
    """
    test = trend_test(frame[frame["year"].astype(int) <= int(last_year)], successes, trials, share).iloc[0]
    if pd.isna(test["p_value"]):
        return ""
    if test["p_value"] < 0.05:
        word = "økte" if test["odds_ratio_per_year"] > 1 else "falt"
    else:
        word = "endret seg ikke sikkert"
    return (
        f"{subject} {word} fra {int(test['first_year'])} til {int(test['last_year'])} "
        f"({fmt_trend(test)}; logistisk regresjon på år)."
    )
