"""The report's figures (plotnine), one function per figure.

Each takes the tidy frames of the statistics functions (and, for the
distribution, the response rows themselves) and returns a ``ggplot``; it
computes nothing the statistics module does not already give.

>>> import pandas as pd
>>> reg_frame = pd.DataFrame({"year": [2023, 2024], "response_share": [0.6, 0.7],
...     "response_share_ci_low": [0.5, 0.6], "response_share_ci_high": [0.7, 0.8]})
>>> p = share_figure(reg_frame, "response_share", title="Svarandel")
>>> type(p).__name__
'ggplot'
"""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    facet_wrap,
    geom_errorbar,
    geom_histogram,
    geom_line,
    geom_point,
    geom_vline,
    ggplot,
    guide_legend,
    guides,
    labs,
    position_dodge,
    scale_color_manual,
    scale_linetype_manual,
    scale_x_continuous,
    scale_x_log10,
    scale_y_continuous,
)

from ..extract import codebook
from ..formatting import format_hms
from .theme import PALETTE, label_int, label_pct, legend_columns, theme_opr

__all__ = ["completion_time_figure", "referrals_by_region_figure", "share_figure", "followup_kind_labels"]

REGION_LABELS = {"lokal": "Lokal", "regional": "Regional", "nasjonal": "Nasjonal", "annet_blank": "«Annet» og blanke"}
DECISION_LABELS = {"rett": "Gitt behandlingsrett", "avvist": "Avvist"}
MS_PER_MINUTE = 60_000
QUARTILES = [("q1_ms", "1. kvartil"), ("median_ms", "Median"), ("q3_ms", "3. kvartil")]


def _year_axis(years) -> scale_x_continuous:
    years = sorted({int(y) for y in years})
    return scale_x_continuous(breaks=years, labels=[str(y) for y in years])


def completion_time_figure(responses: pd.DataFrame, completion: pd.DataFrame, period: str = "alle") -> ggplot:
    """Figure 10: distribution of baseline completion time, quartiles marked.

    ``responses`` holds ``submitted_at`` and ``duration_ms`` (the
    ``baseline_responses`` table); ``completion`` is ``completion_time(reg)``;
    ``period`` is a year (as text) or ``"alle"``. The time axis is logarithmic
    (minutes) because a few answers take hours. The quartiles are three vertical
    lines named with their times in the legend below (labels at the lines would
    overlap: the quartiles lie close together on a logarithmic axis).
    """
    rows = responses.dropna(subset=["duration_ms"])
    if period != "alle":
        rows = rows[rows["submitted_at"].dt.year == int(period)]
    minutes = pd.DataFrame({"minutes": rows["duration_ms"].astype(float) / MS_PER_MINUTE})
    minutes = minutes[minutes["minutes"] > 0]
    q = completion.loc[completion["period"].astype(str) == str(period)].iloc[0]
    names = [f"{name}: {format_hms(q[col])}" for col, name in QUARTILES]
    marks = pd.DataFrame(
        {
            "minutes": [float(q[col]) / MS_PER_MINUTE for col, _ in QUARTILES],
            "quartile": pd.Categorical(names, categories=names),
        }
    )
    breaks = [1, 2, 5, 10, 20, 30, 60, 120, 240, 480]
    return (
        ggplot(minutes, aes("minutes"))
        + geom_histogram(bins=40, fill=PALETTE[0], color="white", size=0.2)
        + geom_vline(aes(xintercept="minutes", linetype="quartile"), data=marks, color=PALETTE[5], size=0.7)
        + scale_linetype_manual(values=["dashed", "solid", "dotted"])
        + scale_x_log10(breaks=breaks, labels=label_int())
        + scale_y_continuous(labels=label_int())
        + labs(x="Minutter (logaritmisk skala)", y="Antall besvarelser")
        + theme_opr()
    )


def _through(frame: pd.DataFrame, last_year: int | None) -> pd.DataFrame:
    return frame if last_year is None else frame[frame["year"].astype(int) <= int(last_year)]


def referrals_by_region_figure(by_region: pd.DataFrame, last_year: int | None = None) -> ggplot:
    """Referrals by health region over the years (through ``last_year``), one panel per decision.

    ``by_region`` is ``referrals_by_region(reg)`` (year, decision, region, n, …).
    """
    by_region = _through(by_region, last_year)
    data = by_region.assign(
        region=pd.Categorical(by_region["region"].map(REGION_LABELS), categories=list(REGION_LABELS.values())),
        decision=pd.Categorical(by_region["decision"].map(DECISION_LABELS), categories=list(DECISION_LABELS.values())),
        year=by_region["year"].astype(int),
        n=by_region["n"].astype(float),
    )
    return (
        ggplot(data, aes("year", "n", color="region"))
        + geom_line(size=0.8)
        + geom_point(size=2)
        + facet_wrap("decision")
        + _year_axis(data["year"])
        + scale_y_continuous(labels=label_int(), limits=(0, None))
        + scale_color_manual(values=PALETTE)
        + labs(x="År", y="Antall henvisninger")
        + theme_opr()
    )


def share_figure(
    frame: pd.DataFrame,
    share: str,
    *,
    colour: str | None = None,
    colour_labels: dict[str, str] | None = None,
    facet: str | None = None,
    title: str | None = None,
    y_label: str = "Andel (95 % KI)",
    hidden: pd.Series | None = None,
    last_year: int | None = None,
) -> ggplot:
    """A share per year with its 95 % Wilson interval (``<share>_ci_low/high``).

    Rows flagged in ``hidden`` (small-number suppression) and 0/0 rows (NA) are
    not drawn, nor years after ``last_year``. ``colour`` splits series (e.g. follow-up ``kind``), labelled
    with ``colour_labels`` when given.
    """
    data = frame if hidden is None else frame.loc[~hidden.astype(bool)]
    data = _through(data.dropna(subset=[share]), last_year).copy()
    data["year"] = data["year"].astype(int)
    for col in (share, f"{share}_ci_low", f"{share}_ci_high"):
        data[col] = data[col].astype(float)
    mapping = aes("year", share)
    dodge = position_dodge(width=0.4) if colour else "identity"
    if colour:
        labels = colour_labels or {}
        codes = [c for c in labels if c in set(data[colour].astype(str))] or sorted(set(data[colour].astype(str)))
        data[colour] = pd.Categorical(
            data[colour].astype(str).map(lambda c: labels.get(c, c)), categories=[labels.get(c, c) for c in codes]
        )
        mapping = aes("year", share, color=colour)
    plot = (
        ggplot(data, mapping)
        + geom_errorbar(aes(ymin=f"{share}_ci_low", ymax=f"{share}_ci_high"), width=0.2, position=dodge)
        + geom_point(size=2.2, position=dodge)
        + _year_axis(data["year"] if len(data) else [])
        + scale_y_continuous(labels=label_pct(), limits=(0, 1))
        + labs(x="År", y=y_label, title=title)
        + theme_opr()
    )
    if colour:
        plot += scale_color_manual(values=PALETTE)
        plot += guides(color=guide_legend(ncol=legend_columns(data[colour].cat.categories)))
    if facet:
        plot += facet_wrap(facet)
    return plot


def followup_kind_labels() -> dict[str, str]:
    """Norwegian labels of the follow-up kinds, from the codebook."""
    return dict(codebook.load().column("followups", "kind").codes)
