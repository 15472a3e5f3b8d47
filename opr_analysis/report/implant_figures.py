"""The implant chapter's figure (plotnine): survival of the implanted systems (contract v1.2, issue 27).

The figure draws :func:`~opr_analysis.stats.implants.implant_survival` and computes nothing:
the Kaplan–Meier estimate as a step line and its pointwise 95 % limits as dashed steps, by
years since implantation. Small numbers: the curve stops at the last month at which at
least ``min_cell`` systems are still followed (a tail of a few systems moves in steps that
tell single patients' outcomes); with fewer than ``min_cell`` systems in all there is no figure.

>>> import pandas as pd
>>> curve = pd.DataFrame({"month": [0, 1, 2], "days": [0, 30, 60], "followed": [40, 30, 3],
...     "survival": [1.0, 0.9, 0.8], "survival_ci_low": [None, 0.8, 0.6], "survival_ci_high": [None, 0.95, 0.9]})
>>> survival_figure_data(curve)["month"].tolist()
[0, 1]
"""

from __future__ import annotations

import pandas as pd
from plotnine import aes, geom_step, ggplot, labs, scale_linetype_manual, scale_x_continuous, scale_y_continuous

from .suppression import DEFAULT_MIN_CELL
from .theme import PALETTE, label_int, label_pct, theme_opr

__all__ = ["survival_figure_data", "implant_survival_figure"]


def survival_figure_data(curve: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The months of ``curve`` the figure draws: from 0 while at least ``min_cell`` systems are still followed."""
    enough = (curve["followed"] >= min_cell) & curve["survival"].notna()
    stop = (~enough).to_numpy().argmax() if (~enough).any() else len(curve)
    return curve.iloc[:stop].copy()


def implant_survival_figure(curve: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> ggplot | None:
    """Share of systems without an unplanned explant by years since implantation, with 95 % limits; None when
    there is nothing to draw (no systems, or fewer than ``min_cell`` followed at the start)."""
    data = survival_figure_data(curve, min_cell)
    if len(data) < 2:
        return None
    data = data.assign(years=data["days"] / 365.25)
    lines = pd.concat(
        [
            pd.DataFrame({"years": data["years"], "value": data["survival"], "line": "Estimat", "part": "est"}),
            pd.DataFrame({"years": data["years"], "value": data["survival_ci_low"], "line": "95 % KI", "part": "lo"}),
            pd.DataFrame({"years": data["years"], "value": data["survival_ci_high"], "line": "95 % KI", "part": "hi"}),
        ],
        ignore_index=True,
    )
    lines["value"] = lines["value"].astype(float)
    # The limits are undefined while no system has failed (the estimate is 1): they start there too.
    lines.loc[lines["value"].isna() & (lines["part"] != "est"), "value"] = 1.0
    lines["line"] = pd.Categorical(lines["line"], categories=["Estimat", "95 % KI"])
    last = float(data["years"].max())
    return (
        ggplot(lines, aes("years", "value", group="part", linetype="line"))
        + geom_step(color=PALETTE[0], size=0.8)
        + scale_linetype_manual(values={"Estimat": "solid", "95 % KI": "dashed"})
        + scale_x_continuous(breaks=list(range(0, int(last) + 1)), labels=label_int(), limits=(0, max(1.0, last)))
        + scale_y_continuous(labels=label_pct(), limits=(0, 1))
        + labs(x="År etter implantasjon", y="Uten uplanlagt eksplantasjon")
        + theme_opr()
    )
