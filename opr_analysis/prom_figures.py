"""Figures of questionnaire outcomes and models (plotnine).

Each function takes the tidy frame of one package function and returns a
``plotnine.ggplot``; the figure code holds no statistics. Text is Norwegian.
A house theme, when the report has one, is applied by the caller
(``fig + theme``) or here once at merge time.

>>> from opr_analysis.proms import improvement_rates            # doctest: +SKIP
>>> improvement_figure(improvement_rates(reg))                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_text,
    facet_wrap,
    geom_errorbar,
    geom_histogram,
    geom_hline,
    geom_point,
    geom_pointrange,
    ggplot,
    labs,
    scale_y_continuous,
    scale_y_log10,
    theme,
    theme_minimal,
)

from .proms import INDICATORS, TREATMENTS

__all__ = ["improvement_figure", "odds_ratio_figure", "score_distribution_figure"]


def _percent(values) -> list[str]:
    return [f"{v * 100:.0f} %" for v in values]


def improvement_figure(rates: pd.DataFrame) -> ggplot:
    """Share improved with 95 % limits per follow-up kind, one panel per indicator.

    ``rates``: :func:`~opr_analysis.proms.improvement_rates` (kinds with n = 0 are left out).
    """
    d = rates[rates["n"] > 0].copy()
    d["indikator"] = pd.Categorical(d["indicator"].map(INDICATORS), categories=list(INDICATORS.values()))
    d["kind"] = pd.Categorical(d["kind"], categories=list(dict.fromkeys(rates["kind"])))
    d["behandling"] = pd.Categorical(d["treatment"].map(TREATMENTS), categories=list(TREATMENTS.values()))
    return (
        ggplot(d, aes("kind", "share", colour="behandling"))
        + geom_pointrange(aes(ymin="share_ci_low", ymax="share_ci_high"))
        + facet_wrap("~indikator")
        + scale_y_continuous(limits=(0, 1), labels=_percent)
        + labs(x="Oppfølging", y="Andel bedret (95 % KI)", colour="Behandling")
        + theme_minimal()
        + theme(axis_text_x=element_text(rotation=45, ha="right"))
    )


def odds_ratio_figure(table: pd.DataFrame, title: str | None = None) -> ggplot:
    """Forest plot of odds ratios with 95 % limits (log scale), intercept left out.

    ``table``: :func:`~opr_analysis.models.tidy_logit` output.
    """
    d = table[table["term"] != "Intercept"].copy()
    d["label"] = pd.Categorical(d["label"], categories=list(d["label"])[::-1])
    return (
        ggplot(d, aes("label", "odds_ratio"))
        + geom_hline(yintercept=1, linetype="dashed", colour="grey")
        + geom_errorbar(aes(ymin="ci_low", ymax="ci_high"), width=0.2)
        + geom_point(size=2)
        + scale_y_log10()
        + coord_flip()
        + labs(x="", y="Oddsratio (95 % KI, logaritmisk skala)", title=title or "")
        + theme_minimal()
    )


def score_distribution_figure(scores: pd.DataFrame, score: str = "nrs_avg", label: str | None = None,
                              by: str = "sex") -> ggplot:
    """Histogram of one score (e.g. of :func:`~opr_analysis.proms.baseline_scores`), a panel per ``by``."""
    d = scores[[score, by]].dropna()
    d = d.assign(**{by: d[by].astype(str), score: d[score].astype(float)})
    bins = int(min(30, max(5, np.ptp(d[score]) + 1))) if len(d) else 10
    return (
        ggplot(d, aes(score))
        + geom_histogram(bins=bins, fill="#4C72B0", colour="white")
        + facet_wrap(f"~{by}")
        + labs(x=label or score, y="Antall besvarelser")
        + theme_minimal()
    )
