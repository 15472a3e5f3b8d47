"""Patients' rights requests handled on time, and the share of patients who reserved or were erased.

Requests (:func:`rights_requests_handling`), per year received × kind
(``innsyn``, ``retting``, ``sletting``, ``reservasjon``, and ``alle``):

- Everything is seen as it stood at the end of the as-of day: a request
  received after it is not counted, one closed after it is still open.
- ``received``; ``closed`` (``closed_date`` on or before as-of) and ``open``
  (= received − closed).
- ``median_days``: the median of days from receipt to closure among the closed
  (pandas' median; blank when none is closed).
- The deadline is 30 days from receipt (contract v1.2; GDPR art. 12(3) says
  one month). ``closed_within_30``: closed at most 30 days after receipt.
  ``open_past_30``: still open more than 30 days after receipt at as-of
  (a count, never a list). ``deadline_known`` = closed + open_past_30: the
  requests whose outcome against the deadline is known; a request open for 30
  days or fewer may still be answered in time and is left out.
  ``closed_within_30_share`` = closed_within_30 / deadline_known, with Wilson
  limits (:func:`~opr_analysis.stats.shares.add_share`).
- The requests of patients erased at their own request are counted: the
  request log is the registry's record of what it handled
  (:mod:`opr_analysis.rights.erasure`).

Reservations and erasures (:func:`rights_reservation_share`), per year of the
patient's first enrolment (``granted_date``): ``patients`` enrolled for the
first time that year, ``reserved`` among them (reserved on or before as-of by
``reserved_date`` or a ``reservasjon`` request, :func:`opr_analysis.rights.reservation_dates`),
``erased`` (erased at their own request; counted whatever the as-of date, since
their data are gone, and in the denominator too), ``reserved_or_erased`` and its
share with Wilson limits. Since the registry collects without consent
(samtykkefritak, 2021), this share of patients who opted out is what the data
can say in place of the seed's «samtykkeprosent».
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract import codebook
from .shares import add_share, count_grid, year_range

DEADLINE_DAYS = 30
ALL = "alle"
_COUNTS = ["received", "closed", "closed_within_30", "open_past_30"]


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def request_kinds() -> list[str]:
    """The request kinds in codebook order."""
    return list(codebook.load().tables["rights_requests"].columns["kind"].codes)


def _requests(reg) -> pd.DataFrame:
    table = reg.tables.get("rights_requests")
    if table is None:
        return pd.DataFrame(columns=["kind", "received_date", "closed_date"])
    return table


def request_flags(reg, as_of=None) -> pd.DataFrame:
    """One row per request received by as-of: year, kind, days (to closure, NaN if open) and the count flags."""
    as_of = _as_of(as_of)
    t = _requests(reg)
    received = pd.to_datetime(t["received_date"])
    t = t[(received <= as_of).to_numpy(dtype=bool)]
    received = pd.to_datetime(t["received_date"])
    closed_at = pd.to_datetime(t["closed_date"])
    closed = (closed_at.notna() & (closed_at <= as_of)).to_numpy(dtype=bool)
    days = (closed_at - received).dt.days.to_numpy(dtype="float64", copy=True)
    days[~closed] = np.nan
    waited = (as_of - received).dt.days.to_numpy()
    return pd.DataFrame(
        {
            "year": received.dt.year.to_numpy(dtype="int64"),
            "kind": t["kind"].astype(str).to_numpy(),
            "days": days,
            "received": 1,
            "closed": closed,
            "closed_within_30": closed & (days <= DEADLINE_DAYS),
            "open_past_30": ~closed & (waited > DEADLINE_DAYS),
        }
    )


def rights_requests_handling(reg, as_of=None) -> pd.DataFrame:
    """year, kind, received, closed, open, median_days, closed_within_30, open_past_30, deadline_known,
    closed_within_30_share (+ Wilson limits): see the module docstring. Every year from the first to the
    last with a request, every kind and ``alle``, zeros included."""
    rows = request_flags(reg, as_of)
    kinds = request_kinds()
    grid = {"year": year_range(rows["year"]), "kind": [*kinds, ALL]}
    both = pd.concat([rows, rows.assign(kind=ALL)], ignore_index=True)
    out = count_grid(both, grid, {c: c for c in _COUNTS})
    medians = both.dropna(subset=["days"]).groupby(["year", "kind"])["days"].median()
    out["median_days"] = [medians.get((y, k), np.nan) for y, k in zip(out["year"], out["kind"], strict=True)]
    out["open"] = out["received"] - out["closed"]
    out["deadline_known"] = out["closed"] + out["open_past_30"]
    out = add_share(out, "closed_within_30_share", "closed_within_30", "deadline_known")
    cols = ["year", "kind", "received", "closed", "open", "median_days", "closed_within_30", "open_past_30"]
    cols += [
        "deadline_known",
        "closed_within_30_share",
        "closed_within_30_share_ci_low",
        "closed_within_30_share_ci_high",
    ]
    return out[cols]


def rights_reservation_share(reg, as_of=None) -> pd.DataFrame:
    """year (first enrolment), patients, reserved, erased, reserved_or_erased, reserved_or_erased_share
    (+ Wilson limits): see the module docstring."""
    from ..rights.reservation import reservation_dates

    as_of = _as_of(as_of)
    first = reg.enrolments.groupby(reg.enrolments["patient_id"].astype(str))["granted_date"].min()
    patients = reg.patients
    reserved_on = pd.Series(reservation_dates(reg).to_numpy(), index=patients["patient_id"].astype(str).to_numpy())
    reserved_on = reserved_on[~reserved_on.index.duplicated()]
    kept = pd.DataFrame({"granted": first})
    kept["reserved"] = (reserved_on.reindex(kept.index) <= as_of).fillna(False).to_numpy(dtype=bool)
    kept["erased"] = False
    erasure = getattr(reg.report, "erasure", None) if hasattr(reg, "report") else None
    gone = erasure.removed.get("enrolments") if erasure is not None else None
    if gone is not None and len(gone):
        erased = pd.DataFrame({"granted": gone.groupby(gone["patient_id"].astype(str))["granted_date"].min()})
        kept = pd.concat([kept, erased.assign(reserved=False, erased=True)])
    rows = pd.DataFrame(
        {
            "year": kept["granted"].dt.year.to_numpy(dtype="int64"),
            "patients": 1,
            "reserved": kept["reserved"].to_numpy(dtype=bool),
            "erased": kept["erased"].to_numpy(dtype=bool),
        }
    )
    rows["reserved_or_erased"] = rows["reserved"] | rows["erased"]
    out = count_grid(
        rows,
        {"year": year_range(rows["year"])},
        {c: c for c in ("patients", "reserved", "erased", "reserved_or_erased")},
    )
    return add_share(out, "reserved_or_erased_share", "reserved_or_erased", "patients")
