"""Indicator results per unit, year and indicator: :func:`indicator_results`.

Aggregation (rapwhale's ``aggreger_ki_prop``): the row-level flags of
:mod:`.statistics` are summed per unit and year, over every unit and every
year from the indicator's first year to the last year with cases (zeros
included). Shares get 95 % Wilson limits (statsmodels, via
:func:`opr_analysis.stats.wilson_interval`); 0/0 gives NA. A mean gets a
t-interval. A median of times with censoring (rows with ``event``: the waiting
time, patients still waiting at the as-of date) is the Kaplan–Meier median
with Brookmeyer–Crowley limits (:func:`opr_analysis.stats.waiting.km_median`);
any other median is the plain median, without limits.

First year. An indicator's years start at the later of its ``first_year``
(indicators.yaml) and the first whole year of its data source
(:func:`.statistics.first_whole_year`): a partial first year (follow-ups due
from June, or from December only) would be delivered, plotted and graded as if
it were a whole one. Earlier years are not in the results, so neither in the
report nor in the delivery file.

Response beside outcomes. An outcome indicator (:data:`.statistics.RESPONSE_OF`)
counts answers only; its rows carry ``response_numerator``,
``response_denominator`` and ``response_share``: of the owed follow-ups at the
same months, settled at the as-of date, the share answered (blank for other
indicators).

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
from ..stats.waiting import km_median
from .definitions import Indicator, load_definitions
from .statistics import RESPONSE_OF, STATISTICS, first_whole_year

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
    "value", "ci_low", "ci_high", "level", "level_label", "response_numerator", "response_denominator",
    "response_share",
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
    if ind.type == "median" and "event" in cases:
        known = cases["value"].notna()
        return (np.nan, *km_median(cases.loc[known, "value"], cases.loc[known, "event"].astype(bool)))
    if ind.type == "median":
        return np.nan, float(np.median(values)), np.nan, np.nan
    if len(values) < 2:
        return np.nan, float(values.mean()), np.nan, np.nan
    low, high = DescrStatsW(values).tconfint_mean()
    return np.nan, float(values.mean()), float(low), float(high)


def start_year(ind: Indicator) -> int:
    """The indicator's first year: its ``first_year``, or the first whole year of its source if later."""
    whole = first_whole_year(ind.statistic, ind.params)
    return max(ind.first_year, whole) if whole is not None else ind.first_year


def aggregate(ind: Indicator, rows: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """unit_id, year, numerator, denominator, value, ci_low, ci_high for every unit and year (+ total)."""
    first = start_year(ind)
    rows = rows[rows["year"] >= first]
    last = int(rows["year"].max()) if len(rows) else first - 1
    years = list(range(first, last + 1))
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
        res = res.join(_response(reg, ind, as_of, units["unit_id"].tolist(), res))
        parts.append(res)
    if not parts:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["unit_name"] = out["unit_id"].map(names).fillna(TOTAL_NAME)
    out["orgnr"] = out["unit_id"].map(orgnrs)
    out["level_label"] = out["level"].map({k: v[0] for k, v in LEVELS.items()})
    return out[RESULT_COLUMNS]


def _response(reg, ind: Indicator, as_of, units: list[str], res: pd.DataFrame) -> pd.DataFrame:
    """response_numerator, response_denominator, response_share aligned with ``res`` (module docstring)."""
    out = pd.DataFrame(
        {
            "response_numerator": pd.array([pd.NA] * len(res), dtype="Int64"),
            "response_denominator": pd.array([pd.NA] * len(res), dtype="Int64"),
            "response_share": np.nan,
        },
        index=res.index,
    )
    respond = RESPONSE_OF.get(ind.statistic)
    if respond is None:
        return out
    shares = share_of(respond(reg, as_of, **ind.params), units)
    keyed = shares.set_index(["unit_id", "year"])
    at = pd.MultiIndex.from_arrays([res["unit_id"], res["year"]])
    found = keyed.reindex(at)
    out["response_numerator"] = pd.array(found["numerator"].to_numpy(), dtype="Int64")
    out["response_denominator"] = pd.array(found["denominator"].to_numpy(), dtype="Int64")
    out["response_share"] = found["value"].to_numpy(dtype=float)
    return out


def share_of(rows: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """unit_id, year, numerator, denominator, value: row-level flags summed per unit and year, and the total."""
    both = pd.concat([rows, rows.assign(unit_id=TOTAL)], ignore_index=True)
    sums = both.groupby(["unit_id", "year"], as_index=False)[["numerator", "denominator"]].sum()
    n = sums["denominator"].astype(float)
    sums["value"] = sums["numerator"] / n.where(n > 0)
    return sums[sums["unit_id"].isin([*units, TOTAL])]
