"""Indicator results per unit, year and indicator: :func:`indicator_results`.

Aggregation (rapwhale's ``aggreger_ki_prop``): the row-level flags of
:mod:`.statistics` are summed per unit and year, over every unit and every
year from the indicator's ``first_year`` to the last year with cases (zeros
included). Shares get 95 % Wilson limits (statsmodels, via
:func:`opr_analysis.stats.wilson_interval`); 0/0 gives NA. A median or mean is
computed over the denominator's cases (a mean gets a t-interval; a median none).

The target level is ``green``/``yellow``/``red`` by the indicator's thresholds
and direction, or ``too_few`` («for lite datagrunnlag») when the denominator is
under the indicator's minimum. The registry total (``unit_id`` :data:`TOTAL`)
is aggregated from the same rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from ..extract.units import unit_table
from ..stats.shares import wilson_interval
from .definitions import Indicator, load_definitions
from .statistics import STATISTICS

TOTAL = "alle"
TOTAL_NAME = "Hele registeret"

#: Target level -> Norwegian text; the symbol lets the level read without colour.
LEVELS = {
    "green": ("Høy måloppnåelse", "▲"),
    "yellow": ("Moderat måloppnåelse", "■"),
    "red": ("Lav måloppnåelse", "▼"),
    "too_few": ("For lite datagrunnlag", "–"),
}

RESULT_COLUMNS = [
    "unit_id", "unit_name", "orgnr", "year", "ind_id", "title", "type", "numerator", "denominator",
    "value", "ci_low", "ci_high", "level", "level_label",
]  # fmt: skip


def indicator_rows(reg, indicator: Indicator, as_of=None) -> pd.DataFrame:
    """The indicator's row-level flags (:mod:`.statistics`)."""
    return STATISTICS[indicator.statistic](reg, as_of, **indicator.params)


def _summary(ind: Indicator, group: pd.DataFrame) -> tuple[float, float, float, float]:
    """(numerator, value, ci_low, ci_high) of one unit-year's rows."""
    cases = group[group["denominator"] == 1]
    if ind.type == "share":
        return float(cases["numerator"].sum()), np.nan, np.nan, np.nan  # value and limits added vectorised
    values = cases["value"].dropna().to_numpy(dtype=float)
    if not len(values):
        return np.nan, np.nan, np.nan, np.nan
    if ind.type == "median":
        return np.nan, float(np.median(values)), np.nan, np.nan
    if len(values) < 2:
        return np.nan, float(values.mean()), np.nan, np.nan
    low, high = DescrStatsW(values).tconfint_mean()
    return np.nan, float(values.mean()), float(low), float(high)


def aggregate(ind: Indicator, rows: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """unit_id, year, numerator, denominator, value, ci_low, ci_high for every unit and year (+ total)."""
    rows = rows[rows["year"] >= ind.first_year]
    last = int(rows["year"].max()) if len(rows) else ind.first_year - 1
    years = list(range(ind.first_year, last + 1))
    both = pd.concat([rows, rows.assign(unit_id=TOTAL)], ignore_index=True)
    out = []
    groups = dict(tuple(both.groupby(["unit_id", "year"], sort=False)))
    empty = rows.iloc[:0]
    for unit in [*units, TOTAL]:
        for year in years:
            g = groups.get((unit, year), empty)
            num, value, low, high = _summary(ind, g)
            out.append((unit, year, num, int(g["denominator"].sum()), value, low, high))
    res = pd.DataFrame(out, columns=["unit_id", "year", "numerator", "denominator", "value", "ci_low", "ci_high"])
    if ind.type == "share":
        n = res["denominator"].astype(float)
        res["value"] = res["numerator"] / n.where(n > 0)
        res["ci_low"], res["ci_high"] = wilson_interval(res["numerator"], res["denominator"])
        res["numerator"] = res["numerator"].astype("Int64")
    else:
        res["numerator"] = pd.array([pd.NA] * len(res), dtype="Int64")
    return res


def indicator_results(reg, as_of=None, definitions: dict[str, Indicator] | None = None) -> pd.DataFrame:
    """The tidy result table: one row per unit (and the total), year and indicator (module docstring)."""
    defs = load_definitions() if definitions is None else definitions
    units = unit_table(reg)
    names = dict(zip(units["unit_id"], units["name"]))
    orgnrs = dict(zip(units["unit_id"], units["orgnr"]))
    parts = []
    for ind in defs.values():
        res = aggregate(ind, indicator_rows(reg, ind, as_of), units["unit_id"].tolist())
        res["ind_id"], res["title"], res["type"] = ind.id, ind.title, ind.type
        res["level"] = [ind.level(v, n) for v, n in zip(res["value"], res["denominator"])]
        parts.append(res)
    if not parts:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["unit_name"] = out["unit_id"].map(names).fillna(TOTAL_NAME)
    out["orgnr"] = out["unit_id"].map(orgnrs)
    out["level_label"] = out["level"].map({k: v[0] for k, v in LEVELS.items()})
    return out[RESULT_COLUMNS]
