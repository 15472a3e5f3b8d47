"""Figures of questionnaire outcomes and models (plotnine).

Each function takes the tidy frame of one package function and returns a
``plotnine.ggplot``; the figure code holds no statistics. Text is Norwegian.
The report's house theme (:func:`~opr_analysis.report.theme.theme_opr`,
Okabe–Ito colours, Norwegian axis labels with decimal comma) is applied here.

>>> from opr_analysis.stats.proms import improvement_rates            # doctest: +SKIP
>>> improvement_figure(improvement_rates(reg))                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_blank,
    element_line,
    element_text,
    facet_wrap,
    geom_errorbar,
    geom_histogram,
    geom_hline,
    geom_point,
    geom_pointrange,
    ggplot,
    labs,
    scale_colour_manual,
    scale_x_continuous,
    scale_x_discrete,
    scale_y_continuous,
    scale_y_log10,
    theme,
)

from ..stats.proms import INDICATORS, TREATMENTS
from .theme import FIGURE_SIZE, PALETTE, label_int, label_number, label_pct, theme_opr, wrap_labels

__all__ = ["improvement_figure", "odds_ratio_figure", "score_distribution_figure", "short_kind_label"]


#: Candidate axis breaks for odds ratios on a log scale.
OR_BREAKS = (0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10)


def _or_breaks(low: float, high: float) -> list[float]:
    """The :data:`OR_BREAKS` within ``[low, high]``, always with 1 (at least the two around the range).

    >>> _or_breaks(0.8, 1.4)
    [0.75, 1, 1.5]
    """
    inside = [b for b in OR_BREAKS if low <= b <= high]
    below = [b for b in OR_BREAKS if b < low][-1:]
    above = [b for b in OR_BREAKS if b > high][:1]
    return sorted({*below, *inside, 1, *above})


def short_kind_label(kind: str) -> str:
    """A follow-up kind as a short axis label.

    >>> short_kind_label("rf_3m"), short_kind_label("avsluttet_12m")
    ('RF 3 mnd', 'Avsluttet 12 mnd')
    """
    treatment, _, months = str(kind).partition("_")
    name = {"rf": "RF", "scs": "SCS"}.get(treatment, treatment.capitalize())
    return f"{name} {months.removesuffix('m')} mnd" if months else name


#: Facet titles wrap at this many characters: two panels side by side on the page (bold 10 pt).
_STRIP_CHARS = int(FIGURE_SIZE[0] / 2 / (0.62 * 10 / 72))


def improvement_figure(rates: pd.DataFrame) -> ggplot:
    """Share improved with 95 % limits per follow-up kind, one panel per indicator.

    ``rates``: :func:`~opr_analysis.stats.proms.improvement_rates` (kinds with n = 0 are left out).
    """
    d = rates[rates["n"] > 0].copy()
    d["indikator"] = pd.Categorical(d["indicator"].map(INDICATORS), categories=list(INDICATORS.values()))
    d["kind"] = pd.Categorical(d["kind"], categories=list(dict.fromkeys(rates["kind"])))
    d["behandling"] = pd.Categorical(d["treatment"].map(TREATMENTS), categories=list(TREATMENTS.values()))
    return (
        ggplot(d, aes("kind", "share", colour="behandling"))
        + geom_pointrange(aes(ymin="share_ci_low", ymax="share_ci_high"))
        + facet_wrap("~indikator", labeller=wrap_labels(_STRIP_CHARS))
        + scale_y_continuous(limits=(0, 1), labels=label_pct())
        + scale_x_discrete(labels=lambda kinds: [short_kind_label(k) for k in kinds])
        + scale_colour_manual(values=PALETTE)
        + labs(x="Oppfølging", y="Andel bedret (95 % KI)", colour="Behandling")
        + theme_opr()
        + theme(axis_text_x=element_text(rotation=45, ha="right"))
    )


def odds_ratio_figure(table: pd.DataFrame, title: str | None = None) -> ggplot:
    """Forest plot of odds ratios with 95 % limits (log scale), intercept left out.

    ``table``: :func:`~opr_analysis.stats.models.tidy_logit` output.
    """
    d = table[table["term"] != "Intercept"].copy()
    d["label"] = pd.Categorical(d["label"], categories=list(d["label"])[::-1])
    breaks = _or_breaks(float(d["ci_low"].min()), float(d["ci_high"].max())) if len(d) else [1]
    return (
        ggplot(d, aes("label", "odds_ratio"))
        + geom_hline(yintercept=1, linetype="dashed", colour="grey")
        + geom_errorbar(aes(ymin="ci_low", ymax="ci_high"), width=0.2)
        + geom_point(size=2)
        + scale_y_log10(breaks=breaks, labels=label_number)
        + coord_flip()
        + labs(x="", y="Oddsratio (95 % KI, logaritmisk skala)", title=title or "")
        + theme_opr()
        + theme(panel_grid_major_x=element_line(color="#d9d9d9", size=0.4), panel_grid_major_y=element_blank())
    )


def score_distribution_figure(
    scores: pd.DataFrame, score: str = "nrs_avg", label: str | None = None, by: str = "sex"
) -> ggplot:
    """Histogram of one score (e.g. of :func:`~opr_analysis.stats.proms.baseline_scores`), a panel per ``by``."""
    d = scores[[score, by]].dropna()
    d = d.assign(**{by: d[by].astype(str), score: d[score].astype(float)})
    bins = int(min(30, max(5, np.ptp(d[score]) + 1))) if len(d) else 10
    return (
        ggplot(d, aes(score))
        + geom_histogram(bins=bins, fill=PALETTE[0], colour="white")
        + facet_wrap(f"~{by}")
        + scale_y_continuous(labels=label_int())
        + scale_x_continuous(labels=label_number)
        + labs(x=label or score, y="Antall besvarelser")
        + theme_opr()
    )
