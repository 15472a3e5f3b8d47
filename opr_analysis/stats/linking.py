"""The one rule that ties an event to an enrolment.

An event (a baseline response, a procedure, a short form) belongs to the
patient's latest enrolment granted on or before the event's day. An event
before any enrolment of the patient belongs to none. The statistics, the PROM
pairing and research extracts all use :func:`enrolment_of`, so they agree.

Examples
--------
>>> import pandas as pd
>>> enrolments = pd.DataFrame({"enrolment_id": ["E1", "E2"], "patient_id": ["P1", "P1"],
...                            "granted_date": pd.to_datetime(["2022-01-10", "2023-03-01"])})
>>> days = pd.Series(pd.to_datetime(["2022-01-09 08:00", "2022-01-10 23:59", "2023-05-05 10:00", "2023-05-05 10:00"]))
>>> enrolment_of(enrolments, pd.Series(["P1", "P1", "P1", "P2"]), days).tolist()
[<NA>, 'E1', 'E2', <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def day(s: pd.Series) -> pd.Series:
    """Datetimes truncated to their day (``datetime64[ns]``): the unit every linking rule compares."""
    return pd.Series(s).dt.normalize().astype("datetime64[ns]")


def enrolment_of(enrolments: pd.DataFrame, patient_ids: pd.Series, dates: pd.Series) -> pd.Series:
    """Enrolment id of each event (``patient_ids[i]`` on ``dates[i]``); NA where none.

    ``enrolments`` needs ``enrolment_id``, ``patient_id`` and ``granted_date``.
    Ties (two grants on one day) go to the larger enrolment id, so the result
    never depends on row order. The result is indexed like ``patient_ids``.
    """
    index = pd.Series(patient_ids).index
    out = pd.Series(pd.NA, index=range(len(index)), dtype="string")
    left = pd.DataFrame(
        {
            "patient_id": pd.Series(patient_ids).astype(object).to_numpy(),
            "day": day(dates).to_numpy(),
            "pos": np.arange(len(index)),
        }
    )
    left = left[left["day"].notna() & left["patient_id"].notna()].sort_values("day", kind="stable")
    right = pd.DataFrame(
        {
            "patient_id": enrolments["patient_id"].astype(object).to_numpy(),
            "granted": day(enrolments["granted_date"]).to_numpy(),
            "enrolment_id": enrolments["enrolment_id"].astype(object).to_numpy(),
        }
    )
    right = right[right["granted"].notna()].sort_values(["granted", "enrolment_id"], kind="stable")
    if len(left) and len(right):
        linked = pd.merge_asof(left, right, left_on="day", right_on="granted", by="patient_id", direction="backward")
        out.iloc[linked["pos"].to_numpy()] = linked["enrolment_id"].to_numpy()
    out.index = index
    return out
