"""Who may have a profile: the erasure gate (contract v1.2, «Patients' rights requests»).

A patient with an **effective erasure** (a ``sletting`` request in ``rights_requests`` whose
``effective_date`` is on or before the as-of day) gets no profile, and nothing of theirs enters
anyone else's (the reference groups leave them out). A **reservation** (``reservasjon``, or
``patients.reserved_date``) stops further questionnaires, not the profile: what the patient
answered before it is shown.

:func:`erased_patients` is the one place this module asks; it reads the contract's table as
the reader delivers it. When :mod:`opr_analysis.rights` (issue 26) is on main, this function
becomes a call of ``opr_analysis.rights.erased_patients`` and nothing else here changes.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["erased_patients"]


def erased_patients(reg, as_of) -> frozenset[str]:
    """Patient ids with a ``sletting`` effective on or before ``as_of`` (empty without ``rights_requests``)."""
    requests = reg.tables.get("rights_requests")
    if requests is None or requests.empty:
        return frozenset()
    day = pd.Timestamp(as_of).normalize()
    effective = pd.to_datetime(requests["effective_date"], errors="coerce")
    hit = (requests["kind"].astype("string") == "sletting") & effective.notna() & (effective <= day)
    return frozenset(requests.loc[hit.fillna(False).astype(bool), "patient_id"].astype(str))
