"""Reservation against further questionnaires: one date per patient (contract v1.2).

A patient reserves in one of two ways the extract records: ``patients.reserved_date``
(the registry software's field) or a ``reservasjon`` row of ``rights_requests`` (the
request itself, from the form every invitation links to). The contract: a
``reservasjon`` acts as ``reserved_date``, and the earlier of the two applies.
:func:`reservation_dates` is the one place that combines them; the follow-up rule
(:mod:`opr_analysis.stats.followup`, exclusion «reservert»: follow-ups due on or
after the date are not owed) and the report's reservation share both use it.

Decisions beyond the contract's words: every usable ``reservasjon`` row counts from
its ``effective_date`` whether or not it is closed (the registry may be late in
answering; the reservation holds from the date it applies), and a patient with
several requests is reserved from the earliest.

>>> import pandas as pd
>>> from types import SimpleNamespace
>>> reg = SimpleNamespace(
...     patients=pd.DataFrame({"patient_id": ["P1", "P2", "P3"],
...                            "reserved_date": pd.to_datetime(["2024-05-01", None, "2024-01-01"])}),
...     tables={"rights_requests": pd.DataFrame({
...         "patient_id": ["P1", "P2", "P3"], "kind": ["reservasjon"] * 3,
...         "effective_date": pd.to_datetime(["2024-03-01", "2024-02-01", "2024-06-01"])})})
>>> reservation_dates(reg).dt.strftime("%Y-%m-%d").tolist()
['2024-03-01', '2024-02-01', '2024-01-01']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RESERVATION = "reservasjon"


def reservation_requests(reg) -> pd.DataFrame:
    """The usable ``reservasjon`` rows of ``rights_requests`` (empty when the table is absent)."""
    table = reg.tables.get("rights_requests")
    if table is None or table.empty:
        return pd.DataFrame(
            {"patient_id": pd.Series(dtype=object), "effective_date": pd.Series(dtype="datetime64[ns]")}
        )
    hit = (table["kind"].astype("string") == RESERVATION) & table["effective_date"].notna()
    return table[hit.fillna(False).to_numpy(dtype=bool)]


def reservation_dates(reg) -> pd.Series:
    """Per row of ``reg.patients`` (same index), the day the patient is reserved from (NaT: not reserved):
    the earlier of ``reserved_date`` and the earliest ``effective_date`` of a ``reservasjon`` request."""
    patients = reg.patients
    own = patients["reserved_date"].astype("datetime64[ns]")
    requests = reservation_requests(reg)
    if requests.empty:
        return own
    first = requests.groupby(requests["patient_id"].astype(str), sort=False)["effective_date"].min()
    asked = patients["patient_id"].astype(str).map(first).astype("datetime64[ns]")
    earlier = own.isna().to_numpy() | (asked < own).fillna(False).to_numpy(dtype=bool)
    return pd.Series(np.where(earlier, asked.to_numpy(), own.to_numpy()), index=patients.index, name="reserved_date")
