"""Synthetic patients' rights requests (contract v1.2 ``rights_requests``) for ``opr synth``.

A generator of :func:`opr_analysis.synth.registry.default_generators`: it draws
from its own random stream (seed and generator name), so adding it changed no
other table, and the same seed gives the same rows.

Rates (per patient and year in the registry, from the first grant to the end
of the extract; a few per thousand, most of them reservations):

- ``reservasjon``: one request for every patient with a ``reserved_date``
  (about 2.5 % of patients, so about 4–5 per thousand a year): received 0–14
  days before and effective on that date. The requests therefore never change
  which follow-ups are owed (the earlier date applies and both are the same).
- ``innsyn`` 1.2, ``retting`` 0.5 and ``sletting`` 0.3 per thousand patients a
  year, received on a day uniformly drawn from the patient's time in the
  registry. A ``sletting`` applies from receipt (``effective_date`` = received).
- Days to closure: log-normal with a median of 12 days; about one in eight
  takes more than 30 days. A request whose closure would fall after the end of
  the extract is still open (blank ``closed_date``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Requests per patient-year (reservations come from reserved_date, see the module docstring).
RATES = {"innsyn": 1.2e-3, "retting": 0.5e-3, "sletting": 0.3e-3}
MEDIAN_DAYS = 12.0
SIGMA = 0.85  # log-normal spread: about 12 % of requests take more than 30 days
COLUMNS = ["request_id", "patient_id", "kind", "received_date", "effective_date", "closed_date"]


def _days(values: pd.Series) -> np.ndarray:
    """Datetimes as day numbers (NaN for blank)."""
    out = values.astype("datetime64[s]").to_numpy().astype("datetime64[D]").astype("float64")
    out[values.isna().to_numpy()] = np.nan
    return out


def _dates(days: np.ndarray) -> pd.Series:
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(days)
    out[ok] = days[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out)


def synth_rights_requests(reg, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """``{"rights_requests": frame}`` for the synthetic registry ``reg`` (module docstring)."""
    patients = reg.tables["patients"]
    end = float(np.datetime64(reg.extract_end.date(), "D").astype(np.int64))
    first = reg.tables["enrolments"].groupby("patient_id")["granted_date"].min()
    start = _days(patients["patient_id"].map(first))
    ids, kinds, received, effective = [], [], [], []
    # reservations: the request behind every reserved_date
    reserved = _days(patients["reserved_date"])
    has = ~np.isnan(reserved)
    lead = rng.integers(0, 15, size=int(has.sum()))
    ids.append(patients["patient_id"].to_numpy(dtype=object)[has])
    kinds.append(np.full(int(has.sum()), "reservasjon", dtype=object))
    received.append(np.maximum(reserved[has] - lead, np.nan_to_num(start[has], nan=-np.inf)))
    effective.append(reserved[has])
    years_in = np.clip((end - np.nan_to_num(start, nan=end)) / 365.25, 0, None)
    for kind, rate in RATES.items():
        hit = rng.random(len(patients)) < rate * years_in
        n = int(hit.sum())
        day = np.floor(start[hit] + rng.random(n) * (end - start[hit] + 1))
        ids.append(patients["patient_id"].to_numpy(dtype=object)[hit])
        kinds.append(np.full(n, kind, dtype=object))
        received.append(day)
        effective.append(day if kind == "sletting" else np.full(n, np.nan))
    rec = np.concatenate(received)
    order = np.lexsort((np.concatenate(ids).astype(str), rec))
    rec = rec[order]
    took = np.round(np.exp(np.log(MEDIAN_DAYS) + SIGMA * rng.standard_normal(len(rec))))
    closed = rec + took
    closed[closed > end] = np.nan
    frame = pd.DataFrame(
        {
            "request_id": pd.array([f"K{i:07d}" for i in range(1, len(rec) + 1)], dtype="string"),
            "patient_id": pd.array(np.concatenate(ids)[order], dtype="string"),
            "kind": pd.array(np.concatenate(kinds)[order], dtype="string"),
            "received_date": _dates(rec),
            "effective_date": _dates(np.concatenate(effective)[order]),
            "closed_date": _dates(closed),
        }
    )
    return {"rights_requests": frame[COLUMNS]}
