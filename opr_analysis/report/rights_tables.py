"""The report's table of patients' rights requests (contract v1.2, issue 26): ``*_cells`` and great-tables.

:func:`rights_requests_cells` shows the report year's requests per kind and in
all (``rights_requests`` of ``opr tables``): received, closed, the median days
to closure, the share closed within 30 days with its Wilson interval, and the
requests still open more than 30 days after receipt at the as-of date (a count,
never a list). The declaration (:mod:`opr_analysis.stats.table_registry`) makes
the table administrative, like the follow-up audit: the registry's own case
handling, shown exactly. The share of patients who reserved or were erased
(``rights_reservation_share``, counts about patients) uses the default
presentation of its declaration (:mod:`.publication`).

>>> import pandas as pd
>>> t = pd.DataFrame({"year": [2024] * 5, "kind": ["innsyn", "retting", "sletting", "reservasjon", "alle"],
...     "received": [10, 0, 0, 20, 30], "closed": [9, 0, 0, 20, 29], "open": [1, 0, 0, 0, 1],
...     "median_days": [12.0, None, None, 8.0, 9.0], "closed_within_30": [8, 0, 0, 19, 27],
...     "open_past_30": [1, 0, 0, 0, 1], "deadline_known": [10, 0, 0, 20, 30],
...     "closed_within_30_share": [0.8, None, None, 0.95, 0.9],
...     "closed_within_30_share_ci_low": [0.49, None, None, 0.76, 0.74],
...     "closed_within_30_share_ci_high": [0.94, None, None, 0.99, 0.97]})
>>> rights_requests_cells(t, 2024)[["kind", "received", "median_days"]].values.tolist()[0]
['innsyn', '10', '12']
"""

from __future__ import annotations

import pandas as pd
from great_tables import GT

from ..formatting import MISSING, fmt_int, fmt_num, fmt_pct
from ..stats.rights_requests import DEADLINE_DAYS
from ..stats.table_registry import REQUEST_KINDS
from .gt_tables import STUB, ci_cells, house_table

__all__ = ["RIGHTS_REQUEST_COLUMNS", "rights_requests_cells", "rights_requests_table"]

#: The displayed columns of :func:`rights_requests_cells` and their headings.
RIGHTS_REQUEST_COLUMNS = [
    ("received", "Mottatt"),
    ("closed", "Besvart"),
    ("median_days", "Median dager til svar"),
    ("within_30", "Besvart innen 30 dager"),
    ("within_30_ci", "95 % KI"),
    ("open_past_30", "Åpne over 30 dager"),
]
_COUNTS = ("received", "closed", "open", "closed_within_30", "open_past_30", "deadline_known")


def rights_requests_cells(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The report year's requests, one row per kind and «Alle krav» (key in column ``kind``), as text."""
    f = frame[frame["year"].astype(int) == int(year)].set_index("kind").reindex(list(REQUEST_KINDS))
    f = f.fillna({c: 0 for c in _COUNTS})
    out = pd.DataFrame({"kind": f.index, STUB: [REQUEST_KINDS[k] for k in f.index]}, index=f.index)
    out["received"] = f["received"].map(fmt_int)
    out["closed"] = f["closed"].map(fmt_int)
    out["median_days"] = [MISSING if pd.isna(m) else fmt_num(m, 0) for m in f["median_days"]]
    out["within_30"] = [MISSING if pd.isna(s) else fmt_pct(s) for s in f["closed_within_30_share"]]
    out["within_30_ci"] = ci_cells(f, "closed_within_30_share")
    out["open_past_30"] = f["open_past_30"].map(fmt_int)
    return out.reset_index(drop=True)


def rights_requests_table(frame: pd.DataFrame, year: int) -> GT:
    """:func:`rights_requests_cells` as a great-tables table."""
    note = (
        f"Kilde: OUS smerteregister, registerets logg over krav fra pasienter. Krav mottatt i {year}, sett per "
        f"skjæringsdatoen. Fristen er {DEADLINE_DAYS} dager fra mottak. Andelen besvart innen fristen "
        f"regnes av kravene som er besvart eller har vært åpne i mer enn {DEADLINE_DAYS} dager; et krav som "
        "fortsatt er innenfor fristen, er ikke med. Kravene fra pasienter som er slettet etter eget krav, er med: "
        "loggen viser at registeret har behandlet dem."
    )
    cells = rights_requests_cells(frame, year).drop(columns="kind")
    return house_table(cells, note, labels=dict(RIGHTS_REQUEST_COLUMNS), stubhead="Krav", id="rights_requests")
