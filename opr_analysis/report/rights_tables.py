"""The report's tables on patients' rights requests (contract v1.2, issue 26): ``*_cells`` and great-tables.

- :func:`rights_requests_cells`: the report year's requests per kind and in all
  (``rights_requests`` of ``opr tables``): received, closed, median days to
  closure, the share closed within 30 days with its Wilson interval, and the
  requests still open more than 30 days after receipt at the as-of date (a
  count, never a list).
- :func:`reservation_share_cells`: per year of first enrolment, the patients who
  reserved or were erased at their own request, and their share
  (``rights_reservation_share``), shown beside the text on the consent exemption.

A request is a patient's act, and an erasure request's count is the count of
erased patients that the data-quality chapter hides when small: both tables are
suppressed below ``min_cell`` (:mod:`.suppression`), with secondary suppression
over received = closed + open and over the sum of the kinds (the «Alle» row).
A median needs ``min_cell`` closed requests (a median of fewer shows their
values); a share is hidden where its numerator or denominator is.

>>> import pandas as pd
>>> t = pd.DataFrame({"year": [2024] * 5, "kind": ["innsyn", "retting", "sletting", "reservasjon", "alle"],
...     "received": [10, 0, 0, 20, 30], "closed": [9, 0, 0, 20, 29], "open": [1, 0, 0, 0, 1],
...     "median_days": [12.0, None, None, 8.0, 9.0], "closed_within_30": [8, 0, 0, 19, 27],
...     "open_past_30": [1, 0, 0, 0, 1], "deadline_known": [10, 0, 0, 20, 30],
...     "closed_within_30_share": [0.8, None, None, 0.95, 0.9],
...     "closed_within_30_share_ci_low": [0.49, None, None, 0.76, 0.74],
...     "closed_within_30_share_ci_high": [0.94, None, None, 0.99, 0.97]})
>>> rights_requests_cells(t, 2024, min_cell=1)[["kind", "received", "median_days"]].values.tolist()[0]
['innsyn', '10', '12']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from great_tables import GT

from ..extract import codebook
from ..formatting import MISSING, fmt_num, fmt_pct
from ..stats.rights_requests import ALL, DEADLINE_DAYS
from .gt_tables import STUB, ci_cells, house_table
from .suppression import (
    DEFAULT_MIN_CELL,
    SUPPRESSED,
    display_counts,
    display_hidden,
    suppress_wide,
    suppression_note,
)

__all__ = [
    "RIGHTS_REQUEST_COLUMNS",
    "WORKBOOK_SHEETS",
    "reservation_share_hidden",
    "reservation_share_workbook",
    "rights_requests_hidden",
    "rights_requests_workbook",
    "rights_requests_cells",
    "rights_requests_table",
    "reservation_share_cells",
    "reservation_share_table",
]

#: The displayed count columns of :func:`rights_requests_cells` and their headings.
RIGHTS_REQUEST_COLUMNS = [
    ("received", "Mottatt"),
    ("closed", "Besvart"),
    ("median_days", "Median dager til svar"),
    ("within_30", "Besvart innen 30 dager"),
    ("within_30_ci", "95 % KI"),
    ("open_past_30", "Åpne over 30 dager"),
]
_SOURCE = "Kilde: OUS smerteregister, registerets logg over krav fra pasienter (rights_requests)."


_REQUEST_COUNTS = ("received", "closed", "open", "closed_within_30", "open_past_30", "deadline_known")


def _requests_year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """One year's rows of ``rights_requests``, indexed by kind (codebook order, then ``alle``)."""
    labels = codebook.load().column("rights_requests", "kind").codes
    f = frame[frame["year"].astype(int) == int(year)].set_index("kind").reindex([*labels, ALL])
    return f.fillna({c: 0 for c in _REQUEST_COUNTS})


def rights_requests_hidden(f: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Which cells of one year's requests (:func:`_requests_year`) to hide: a boolean frame with the count
    columns plus ``median_days`` and ``share`` (the 30-day share and its limits). The one rule the report
    table and the workbook both apply (module docstring)."""
    f = f.assign(open_within_30=f["open"] - f["open_past_30"], late=f["deadline_known"] - f["closed_within_30"])
    hidden = suppress_wide(
        f,
        [
            ("received", ["closed", "open"]),
            ("open", ["open_past_30", "open_within_30"]),
            ("deadline_known", ["closed_within_30", "late"]),
        ],
        min_cell,
        total_row=ALL,
        displayed=["received", "closed", "open_past_30", "closed_within_30", "deadline_known"],
    )
    hidden["share"] = hidden["closed_within_30"] | hidden["deadline_known"] | hidden["late"]
    hidden["median_days"] = (f["closed"] < max(min_cell, 1)) | hidden["closed"]
    return hidden


def rights_requests_cells(frame: pd.DataFrame, year: int, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """The report year's requests, one row per kind and «Alle krav» (key in column ``kind``), as text."""
    labels = codebook.load().column("rights_requests", "kind").codes
    f = _requests_year(frame, year)
    hidden = rights_requests_hidden(f, min_cell)
    out = pd.DataFrame({"kind": f.index, STUB: [labels.get(k, "Alle krav") for k in f.index]}, index=f.index)
    out["received"] = display_counts(f["received"], hidden["received"], min_cell)
    out["closed"] = display_counts(f["closed"], hidden["closed"], min_cell)
    out["median_days"] = [
        MISSING if h or pd.isna(m) else fmt_num(m, 0)
        for m, h in zip(f["median_days"], hidden["median_days"], strict=True)
    ]
    out["within_30"] = display_hidden(f["closed_within_30_share"].map(fmt_pct), hidden["share"])
    out["within_30_ci"] = display_hidden(ci_cells(f, "closed_within_30_share"), hidden["share"])
    out["open_past_30"] = display_counts(f["open_past_30"], hidden["open_past_30"], min_cell)
    return out.reset_index(drop=True)


def rights_requests_table(frame: pd.DataFrame, year: int, as_of, min_cell: int = DEFAULT_MIN_CELL) -> GT:
    """:func:`rights_requests_cells` as a great-tables table."""
    note = (
        f"{_SOURCE} Krav mottatt i {year}, sett per {pd.Timestamp(as_of):%d.%m.%Y}. Fristen er {DEADLINE_DAYS} dager "
        "fra mottak. Andelen besvart innen fristen regnes av kravene som er besvart eller har vært åpne i mer enn "
        f"{DEADLINE_DAYS} dager; et krav som fortsatt er innenfor fristen, er ikke med. Medianen vises når minst "
        f"{min_cell} krav er besvart." + (" " + suppression_note(min_cell) if min_cell > 1 else "")
    )
    cells = rights_requests_cells(frame, year, min_cell).drop(columns="kind")
    return house_table(cells, note, labels=dict(RIGHTS_REQUEST_COLUMNS), stubhead="Krav", id="rights_requests")


def reservation_share_hidden(f: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Which cells of ``rights_reservation_share`` (rows as given) to hide: the counts, and ``share`` (the
    share and its limits), over patients = reserved or erased + the others and reserved or erased =
    reserved + erased. The one rule the report table and the workbook both apply."""
    f = f.assign(others=f["patients"] - f["reserved_or_erased"])
    hidden = suppress_wide(
        f,
        [("patients", ["reserved_or_erased", "others"]), ("reserved_or_erased", ["reserved", "erased"])],
        min_cell,
        displayed=["patients", "reserved_or_erased", "reserved", "erased"],
    )
    hidden["share"] = hidden["reserved_or_erased"] | hidden["patients"] | hidden["others"]
    return hidden


def reservation_share_cells(
    frame: pd.DataFrame, years: Sequence[int], min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Per year of first enrolment (columns): patients, reserved or erased, share and interval, as text."""
    f = frame.assign(year=frame["year"].astype(int)).set_index("year").reindex(list(years))
    hidden = reservation_share_hidden(f, min_cell)
    rows = {
        "Nye pasienter (første innskriving)": display_counts(f["patients"], hidden["patients"], min_cell),
        "Reservert eller slettet etter krav": display_counts(
            f["reserved_or_erased"], hidden["reserved_or_erased"], min_cell
        ),
        "Andel": display_hidden(f["reserved_or_erased_share"].map(fmt_pct), hidden["share"]),
        "95 % KI": display_hidden(ci_cells(f, "reserved_or_erased_share"), hidden["share"]),
    }
    return pd.DataFrame(
        [{STUB: k, **{str(y): v for y, v in zip(years, vals, strict=True)}} for k, vals in rows.items()]
    )


def reservation_share_table(frame: pd.DataFrame, years: Sequence[int], as_of, min_cell: int = DEFAULT_MIN_CELL) -> GT:
    """:func:`reservation_share_cells` as a great-tables table."""
    note = (
        "Kilde: OUS smerteregister. Pasienter etter året de første gang fikk rett til helsehjelp. Reservert: "
        f"reservert mot flere spørreskjemaer på eller før {pd.Timestamp(as_of):%d.%m.%Y} (feltet «reservert fra "
        "dato» eller et krav om reservasjon). Slettet: opplysningene er slettet etter krav fra pasienten; de er "
        "bare med i denne tellingen." + (" " + suppression_note(min_cell) if min_cell > 1 else "")
    )
    return house_table(reservation_share_cells(frame, years, min_cell), note, id="rights_reservation_share")


# --- the workbook's sheets: the same hidden cells, as the report's symbols ---


def _symbols(frame: pd.DataFrame, hidden: pd.DataFrame, counts, shares) -> pd.DataFrame:
    out = frame.astype(object)
    for col in counts:  # a blank (a median of nothing) stays blank
        out.loc[hidden[col].to_numpy() & frame[col].notna().to_numpy(), col] = SUPPRESSED
    for col in shares:
        out.loc[hidden["share"].to_numpy() & frame[col].notna().to_numpy(), col] = MISSING
    return out


def rights_requests_workbook(frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """``rights_requests`` as the workbook shows it: every year's hidden cells as in the report."""
    parts = []
    for year in sorted(frame["year"].astype(int).unique()):
        f = _requests_year(frame, year)
        hidden = rights_requests_hidden(f, min_cell)
        shown = _symbols(
            f, hidden, [*_REQUEST_COUNTS, "median_days"], [c for c in f if c.startswith("closed_within_30_share")]
        )
        parts.append(shown.reset_index()[list(frame.columns)])
    return pd.concat(parts, ignore_index=True) if parts else frame


def reservation_share_workbook(frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """``rights_reservation_share`` as the workbook shows it: hidden cells as in the report."""
    f = frame.reset_index(drop=True)
    hidden = reservation_share_hidden(f, min_cell)
    shares = [c for c in f if c.startswith("reserved_or_erased_share")]
    return _symbols(f, hidden, ["patients", "reserved", "erased", "reserved_or_erased"], shares)


#: table name -> how its workbook sheet hides cells (used by :mod:`.workbook`).
WORKBOOK_SHEETS = {"rights_requests": rights_requests_workbook, "rights_reservation_share": reservation_share_workbook}
