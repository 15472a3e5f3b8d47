"""The implant chapter's tables (great-tables), from their declarations (contract v1.2, issue 27).

Same two-function pattern as :mod:`.gt_tables`: ``<name>_cells`` gives the displayed text cells
(tests compare these with the statistics and the rendered report), ``<name>_table`` wraps them in
a ``GT``. Each row's key is in the column ``kind`` (a component or reason code, ``totalt``, or the
years after implantation), as in the follow-up table; the table does not show it. What is hidden is decided once, by each table's declaration in
:mod:`opr_analysis.stats.table_registry` (:func:`~.suppression.publish` for the cells,
:func:`~.suppression.published_margins` for the total lines), so the report, the workbook and the
audit agree:

- **Implanted** (:func:`implanted_per_year_cells`): components by kind (rows) and year
  (columns) with a «Totalt» row. Implantations are procedures, administrative counts like
  referrals and forms (the report's rule): shown exactly.
- **Removed** (:func:`explants_by_reason_cells`): reasons (rows) by year (the years the report
  shows) and «Alle år», with the «Totalt» line: counts about patients, the totals being the
  table's own margins, so one audit covers every number a reader sees (and the text's shares,
  which are of displayed totals).
- **Survival** (:func:`implant_survival_cells`): at 1 and 2 years, the systems = failures +
  followed shorter + followed longer; the estimate and its interval are hidden when the
  failures or the systems followed longer are hidden.

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
from ..formatting import MISSING, fmt_int, fmt_pct, fmt_pct_interval
from .gt_tables import STUB, house_table
from .suppression import DEFAULT_MIN_CELL, display_value, publish, published_margins, suppression_note

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


def _interval(low, high) -> str:
    return MISSING if MISSING in (low, high) or pd.isna(low) or pd.isna(high) else fmt_pct_interval(low, high)


def implanted_per_year_cells(frame: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Components implanted per year by kind (:func:`~opr_analysis.stats.implants.implanted_per_year`), with the
    total. Procedures are administrative counts (like referrals and forms) and are shown exactly."""
    years = [int(y) for y in years]
    labels = _labels("component")
    f = frame.assign(year=frame["year"].astype(int), component=frame["component"].astype(str))
    wide = f.pivot_table(index="component", columns="year", values="n", aggfunc="sum", observed=True)
    wide = wide.reindex(index=list(labels), columns=years).fillna(0).astype("int64")
    wide.loc[TOTAL] = wide.sum()
    out = pd.DataFrame({"kind": wide.index, STUB: [labels.get(c, "Totalt") for c in wide.index]})
    for y in years:
        out[str(y)] = [fmt_int(v) for v in wide[y]]
    return out.reset_index(drop=True)


def implanted_per_year_table(frame: pd.DataFrame, years: Sequence[int]) -> GT:
    note = (
        SOURCE_IMPLANTS + " Hver komponent telles i året den ble satt inn; en ny generator etter batteribytte og en "
        "ny elektrode etter elektrodevandring telles også. Inngrep er administrative tall og vises uten prikking."
    )
    cells = implanted_per_year_cells(frame, years).drop(columns="kind")
    return house_table(cells, note, stubhead="Komponent", id="implanted_per_year")


def explants_by_reason_cells(
    frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Components removed per year by reason (:func:`~opr_analysis.stats.implants.explants_by_reason`) for
    ``years``, then every year together («alle»), with the totals per year and in all («totalt»): the
    published cells and total lines of the table's declaration."""
    years = [int(y) for y in years]
    labels = _labels("explant_reason")
    shown = publish("explants_by_reason", frame, min_cell)
    value = {(r, int(y)): v for r, y, v in zip(frame["reason"].astype(str), frame["year"], shown["n"], strict=True)}
    margins = published_margins("explants_by_reason", frame, min_cell)
    total = {(int(i), k): v for i, k, v in zip(margins["margin"], margins["key"], margins["shown"], strict=True)}

    def line(code, label, cells, all_years):
        return {"kind": code, STUB: label, **{str(y): display_value(cells(y), fmt_int) for y in years},
                ALL: display_value(all_years, fmt_int)}  # fmt: skip

    rows = [
        line(code, label, lambda y, code=code: value.get((code, y), 0), total.get((1, (code,)), 0))
        for code, label in labels.items()
    ]
    rows.append(line(TOTAL, "Totalt", lambda y: total.get((0, (y,)), 0), total.get((2, ()), 0)))
    return pd.DataFrame(rows)


def explants_by_reason_table(frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL) -> GT:
    cells = explants_by_reason_cells(frame, years, min_cell).drop(columns="kind")
    note = (
        SOURCE_IMPLANTS + " Komponenter tatt ut, etter året de ble tatt ut og årsaken registeret oppgir; «Alle år» "
        "gjelder hele perioden fram til skjæringsdatoen. Batteri: generatoren er tom eller byttet (planlagt)."
        + _note(min_cell)
    )
    return house_table(cells, note, labels={ALL: "Alle år"}, stubhead="Årsak", id="explants_by_reason")


SURVIVAL_COLUMNS = [
    ("systems", "Systemer"),
    ("events", "Uplanlagt eksplantasjon"),
    ("censored", "Fulgt kortere"),
    ("followed", "Fulgt lenger"),
]


def implant_survival_cells(summary: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Survival of the implanted systems at 1 and 2 years
    (:func:`~opr_analysis.stats.implants.implant_survival_summary`), as published."""
    shown = publish("implant_survival_summary", summary, min_cell)
    out = pd.DataFrame({"kind": summary["years"].astype(int), STUB: [f"{int(y)} år" for y in summary["years"]]})
    for col, _ in SURVIVAL_COLUMNS:
        out[col] = [display_value(v, fmt_int) for v in shown[col]]
    out["survival"] = [MISSING if pd.isna(v) else display_value(v, fmt_pct) for v in shown["survival"]]
    out["survival_ci"] = [
        _interval(lo, hi) for lo, hi in zip(shown["survival_ci_low"], shown["survival_ci_high"], strict=True)
    ]
    return out.reset_index(drop=True)


def implant_survival_table(summary: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> GT:
    cells = implant_survival_cells(summary, min_cell).drop(columns="kind")
    labels = {**dict(SURVIVAL_COLUMNS), "survival": "Uten uplanlagt eksplantasjon", "survival_ci": "95 % KI"}
    note = (
        SOURCE_IMPLANTS + " Et system er komponentene én SCS-behandling satte inn (komponenter uten behandling: ett "
        "system per pasient). Uplanlagt eksplantasjon: en komponent tatt ut av en annen grunn enn batteribytte. "
        "Fulgt kortere: implantert for kort tid siden, eller alle komponenter tatt ut ved batteribytte. Andelen er "
        "Kaplan–Meier-estimatet (1 år = 365 dager, 2 år = 730 dager) med 95 % konfidensintervall "
        "(log(−log)-transformasjon); den skjules når antallet eksplantasjoner eller systemer som er fulgt lenger, "
        "er skjult." + _note(min_cell)
    )
    return house_table(cells, note, labels=labels, stubhead="Tid etter implantasjon", id="implant_survival_summary")
