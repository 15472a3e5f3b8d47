"""The profile's one figure: the patient's scores over time against the reference band (plotnine).

One panel per score (:data:`~.definitions.SCORES` with at least one value), the date on the
x axis. The patient's baselines and answered follow-ups are points joined by a line; at each
point a grey bar spans the reference group's quartiles (q1–q3, :mod:`.reference`) with a
tick at the median, drawn only where the group has at least 20 patients. Treatments (RF,
SCS) are dashed vertical lines. Each panel's y axis covers the instrument's whole range, so
the position reads at a glance. :func:`figure_cells` is the figure's data (tested exactly);
the figure code holds no statistics.
"""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    element_text,
    facet_wrap,
    geom_blank,
    geom_line,
    geom_linerange,
    geom_point,
    geom_vline,
    ggplot,
    labs,
    scale_colour_manual,
    scale_linetype_manual,
    scale_shape_manual,
    scale_x_datetime,
    scale_y_continuous,
    theme,
)

from ..report.theme import PALETTE, label_number, theme_opr
from .definitions import SCORES
from .reference import MIN_REFERENCE

__all__ = ["FIGURE_SIZE", "figure_alt", "figure_cells", "figure_png", "profile_figure"]

#: Inches: the A4 text width of the PDF and a height for three rows of panels.
FIGURE_SIZE = (6.9, 3.9)
PATIENT = "Pasienten"
BAND = f"Referansegruppen: kvartiler (når minst {MIN_REFERENCE})"
TREATMENT_LABELS = {"rf": "RF-behandling", "scs": "SCS-implantasjon"}


def figure_cells(p) -> pd.DataFrame:
    """The figure's points: panel (short score label), point label, date, value, q1, median, q3
    (NaN where the reference group is under 20), in panel and date order; scores without any
    value are left out."""
    s = p.series.copy()
    order = {sc.column: i for i, sc in enumerate(SCORES)}
    short = {sc.column: sc.short for sc in SCORES}
    has_value = s.groupby("column")["value"].transform(lambda v: v.notna().any())
    s = s[has_value.astype(bool)]
    small = s["reference_n"] < MIN_REFERENCE
    for c in ("q1", "median", "q3"):
        s.loc[small, c] = float("nan")
    s = s.assign(panel=s["column"].map(short), order=s["column"].map(order))
    s = s.sort_values(["order", "date"], kind="stable")
    return s[["panel", "column", "point", "date", "value", "q1", "median", "q3"]].reset_index(drop=True)


def _limits(columns) -> pd.DataFrame:
    rows = [(sc.short, sc.low) for sc in SCORES if sc.column in set(columns)]
    rows += [(sc.short, sc.high) for sc in SCORES if sc.column in set(columns)]
    return pd.DataFrame(rows, columns=["panel", "y"])


def profile_figure(p):
    """The figure (a ``ggplot``), or None when the patient has no score at all."""
    data = figure_cells(p)
    if data["value"].notna().sum() == 0:
        return None
    panels = [sc.short for sc in SCORES if sc.short in set(data["panel"])]
    cat = pd.CategoricalDtype(panels, ordered=True)
    data["panel"] = data["panel"].astype(cat)
    data["series"] = PATIENT
    band = data.dropna(subset=["q1"]).assign(series=BAND)
    limits = _limits(data["column"]).assign(panel=lambda f: f["panel"].astype(cat))
    known = data.dropna(subset=["value"])
    lines = known[known.groupby("panel", observed=True)["value"].transform("size") > 1]
    first, last = data["date"].min(), data["date"].max()
    pad = max(pd.Timedelta(days=45), (last - first) * 0.06)
    limits["date"] = first
    treat = p.treatments
    treat = treat[(treat["date"] >= first - pad) & (treat["date"] <= last + pad)]
    treat = pd.DataFrame(
        {
            "date": pd.to_datetime(treat["date"]).to_numpy(),
            "what": treat["kind"].astype(str).map(TREATMENT_LABELS).to_numpy(),
        }
    )
    span = (last - first + 2 * pad).days
    breaks = "1 year" if span > 1100 else "6 months" if span > 500 else "2 months" if span > 150 else "1 month"
    plot = (
        ggplot(data, aes("date", "value"))
        + geom_blank(aes("date", "y"), data=limits)
        + geom_linerange(aes(ymin="q1", ymax="q3", colour="series"), data=band, size=3.2, alpha=0.55)
        + geom_point(aes(y="median"), data=band, shape="_", size=5, colour="#4d4d4d")
        + geom_line(aes(group="panel"), data=lines, colour=PALETTE[0], size=0.6)
        + geom_point(aes(shape="series"), data=known, size=2.2, colour=PALETTE[0])
        + facet_wrap("panel", ncol=3, scales="free_y")
        + scale_colour_manual(values={BAND: "#9e9e9e"}, name="")
        + scale_shape_manual(values={PATIENT: "o"}, name="")
        + scale_x_datetime(date_labels="%m.%Y", date_breaks=breaks, limits=(first - pad, last + pad))
        + scale_y_continuous(labels=label_number)
        + labs(x="", y="")
        + theme_opr(9)
        + theme(figure_size=FIGURE_SIZE, axis_text_x=element_text(size=7), legend_position="bottom")
    )
    if len(treat):
        plot += geom_vline(aes(xintercept="date", linetype="what"), data=treat, colour=PALETTE[1], size=0.5)
        plot += scale_linetype_manual(values={v: "dashed" for v in treat["what"].unique()}, name="")
    return plot


def figure_alt(p) -> str:
    """The figure's alternative text, written from its data."""
    data = figure_cells(p)
    panels = list(dict.fromkeys(data["panel"]))
    points = data.dropna(subset=["value"]).drop_duplicates(["date", "point"])
    return (
        f"Pasientens skår over tid ({len(points)} besvarte skjemaer), ett panel for hver av {', '.join(panels)}, "
        f"med referansegruppens kvartiler der gruppen har minst {MIN_REFERENCE} pasienter og behandlinger som "
        "stiplede linjer."
    )


def figure_png(plot, dpi: int = 200) -> bytes:
    """The figure as PNG bytes at ``dpi``."""
    import io

    buf = io.BytesIO()
    plot.save(buf, format="png", dpi=dpi, verbose=False)
    return buf.getvalue()
