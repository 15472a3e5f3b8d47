"""The implant chapter's tables (great-tables), with small-cell suppression (contract v1.2, issue 27).

Same two-function pattern as :mod:`.gt_tables`: ``<name>_cells`` gives the displayed text cells
(tests compare these with the statistics), ``<name>_table`` wraps them in a ``GT``. Counts of
components removed and systems that failed are outcomes for patients and go through
:mod:`.suppression`:

- **Implanted** (:func:`implanted_per_year_cells`): components by kind (rows) and year
  (columns) with a «Totalt» row. Implantations are procedures, administrative counts like
  referrals and forms (the report's rule): shown without suppression.
- **Removed** (:func:`explants_by_reason_cells`): reasons (rows) by year, then every year
  together with the reason's share and its interval; each row's years (shown or not) add up
  to «Alle år», and each column to «Totalt». A share is hidden with its count or its total.
- **Survival** (:func:`implant_survival_cells`): at 1 and 2 years, the systems = failures +
  censored + still followed; the survival and its interval are hidden when the failures or
  the systems still followed are hidden (a few failures, or a tail of a few systems).

No cell ever shows a serial number, a lot or a patient: the statistics hold none.

>>> import pandas as pd
>>> s = pd.DataFrame({"years": [1], "days": [365], "systems": [40], "events": [3], "censored": [5], "followed": [32],
...                   "survival": [0.92], "survival_ci_low": [0.78], "survival_ci_high": [0.97]})
>>> implant_survival_cells(s).loc[0, ["systems", "events", "survival"]].tolist()
['40', '×', '–']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from great_tables import GT

from ..extract import codebook
from ..formatting import MISSING, fmt_pct, fmt_pct_interval
from .gt_tables import STUB, house_table
from .suppression import DEFAULT_MIN_CELL, display_counts, display_hidden, suppress_wide, suppression_note

__all__ = [
    "SOURCE_IMPLANTS",
    "implanted_per_year_cells",
    "implanted_per_year_table",
    "explants_by_reason_cells",
    "explants_by_reason_table",
    "implant_survival_cells",
    "implant_survival_table",
]

SOURCE_IMPLANTS = "Kilde: OUS smerteregister, implantatregisteret."
TOTAL = "totalt"
ALL = "alle"


def _labels(column: str) -> dict[str, str]:
    return codebook.load().column("implants", column).codes


def _note(min_cell: int) -> str:
    return " " + suppression_note(min_cell) if min_cell > 1 else ""


def implanted_per_year_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Components implanted per year by kind (:func:`~opr_analysis.stats.implants.implanted_per_year`), with the
    total. Procedures are administrative counts (like referrals and forms) and are shown without suppression."""
    years = [int(y) for y in years]
    labels = _labels("component")
    f = frame.assign(year=frame["year"].astype(int), component=frame["component"].astype(str))
    wide = f.pivot_table(index="component", columns="year", values="n", aggfunc="sum", observed=True)
    wide = wide.reindex(index=list(labels), columns=years).fillna(0).astype("int64")
    wide.loc[TOTAL] = wide.sum()
    out = pd.DataFrame({"component": wide.index, STUB: [labels.get(c, "Totalt") for c in wide.index]})
    for y in years:
        out[str(y)] = display_counts(wide[y]).to_numpy()
    return out.reset_index(drop=True)


def implanted_per_year_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    note = (
        SOURCE_IMPLANTS + " Hver komponent telles i året den ble satt inn; en ny generator etter batteribytte og en "
        "ny elektrode etter elektrodevandring telles også. Inngrep er administrative tall og vises uten prikking."
    )
    cells = implanted_per_year_cells(frame, years).drop(columns="component")
    return house_table(cells, note, stubhead="Komponent", id="implanted_per_year")


def explants_by_reason_cells(
    frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Components removed per year and reason (:func:`~opr_analysis.stats.implants.explants_by_reason`), then every
    year together with each reason's share of all removals and its 95 % interval."""
    years = [int(y) for y in years]
    labels = _labels("explant_reason")
    f = frame.assign(period=frame["period"].astype(str), reason=frame["reason"].astype(str))
    wide = f.pivot_table(index="reason", columns="period", values="n", aggfunc="sum", observed=True)
    cols = [str(y) for y in years]
    wide = wide.reindex(index=list(labels), columns=[*cols, ALL]).fillna(0).astype("int64")
    wide["other_years"] = wide[ALL] - wide[cols].sum(axis=1)  # years the table does not show
    wide.loc[TOTAL] = wide.sum()
    hidden = suppress_wide(wide, [(ALL, [*cols, "other_years"])], min_cell, total_row=TOTAL, displayed=[*cols, ALL])
    every = f[f["period"] == ALL].set_index("reason").reindex(list(labels))
    share_hidden = (hidden[ALL] | hidden.loc[TOTAL, ALL]).iloc[: len(labels)].to_numpy()
    shares = pd.Series([fmt_pct(v) for v in every["share"]], index=every.index)
    ci = pd.Series(
        [fmt_pct_interval(lo, hi) for lo, hi in zip(every["share_ci_low"], every["share_ci_high"], strict=True)],
        index=every.index,
    )
    out = pd.DataFrame({"reason": wide.index, STUB: [labels.get(r, "Totalt") for r in wide.index]})
    for c in [*cols, ALL]:
        out[c] = display_counts(wide[c], hidden[c], min_cell).to_numpy()
    out["share"] = [*display_hidden(shares, pd.Series(share_hidden, index=shares.index)).to_numpy(), ""]
    out["share_ci"] = [*display_hidden(ci, pd.Series(share_hidden, index=ci.index)).to_numpy(), ""]
    return out.reset_index(drop=True)


def explants_by_reason_table(frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL) -> GT:
    cells = explants_by_reason_cells(frame, years, min_cell).drop(columns="reason")
    labels = {ALL: "Alle år", "share": "Andel, alle år", "share_ci": "95 % KI"}
    note = (
        SOURCE_IMPLANTS + " Komponenter tatt ut, etter året de ble tatt ut og årsaken registeret oppgir. «Alle år» "
        "gjelder hele perioden i uttrekket; andelen er årsakens andel av alle komponenter som er tatt ut."
        + _note(min_cell)
    )
    return house_table(cells, note, labels=labels, stubhead="Årsak", id="explants_by_reason")


SURVIVAL_COLUMNS = [
    ("systems", "Systemer"),
    ("events", "Uplanlagt eksplantasjon"),
    ("censored", "Fulgt kortere"),
    ("followed", "Fulgt lenger"),
]


def implant_survival_cells(summary: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Survival of the implanted systems at 1 and 2 years
    (:func:`~opr_analysis.stats.implants.implant_survival_summary`), counts suppressed (module docstring)."""
    f = summary.set_index("years")
    hidden = suppress_wide(f, [("systems", ["events", "censored", "followed"])], min_cell)
    survival_hidden = hidden["events"] | hidden["followed"] | f["survival"].isna()
    out = pd.DataFrame({"years": f.index, STUB: [f"{y} år" for y in f.index]}, index=f.index)
    for col, _ in SURVIVAL_COLUMNS:
        out[col] = display_counts(f[col], hidden[col], min_cell)
    out["survival"] = display_hidden(f["survival"].map(fmt_pct), survival_hidden)
    ci = pd.Series(
        [fmt_pct_interval(lo, hi) for lo, hi in zip(f["survival_ci_low"], f["survival_ci_high"], strict=True)],
        index=f.index,
    )
    out["survival_ci"] = display_hidden(ci, survival_hidden)
    return out.replace({"survival": {"": MISSING}}).reset_index(drop=True)


def implant_survival_table(summary: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> GT:
    cells = implant_survival_cells(summary, min_cell).drop(columns="years")
    labels = {**dict(SURVIVAL_COLUMNS), "survival": "Uten uplanlagt eksplantasjon", "survival_ci": "95 % KI"}
    note = (
        SOURCE_IMPLANTS + " Et system er komponentene én SCS-behandling satte inn (komponenter uten behandling: ett "
        "system per pasient). Uplanlagt eksplantasjon: en komponent tatt ut av en annen grunn enn batteribytte. "
        "Fulgt kortere: implantert for kort tid siden, eller alle komponenter tatt ut ved batteribytte. Andelen er "
        "Kaplan–Meier-estimatet (1 år = 365 dager, 2 år = 730 dager) med 95 % konfidensintervall "
        "(log(−log)-transformasjon); den skjules når antallet eksplantasjoner eller systemer som er fulgt lenger, "
        "er skjult." + _note(min_cell)
    )
    return house_table(cells, note, labels=labels, stubhead="Tid etter implantasjon", id="implant_survival")
