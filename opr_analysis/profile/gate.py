"""Who may have a profile: the erasure gate (contract v1.2, «Patients' rights requests»).

A patient with an **effective erasure** (a ``sletting`` request in ``rights_requests`` whose
``effective_date`` is on or before the day the profile is made — the run date, never
``--as-of``, as for every output) gets no profile, and nothing of theirs enters anyone else's
(the reference groups leave them out). A **reservation** (``reservasjon``, or
``patients.reserved_date``) stops further questionnaires, not the profile: what the patient
answered before it is shown.

:func:`erased_patients` is the one place this package asks; it is
:func:`opr_analysis.rights.erased_patients` (issue 26), the rule every output follows.
:func:`erased_enrolments` finds the enrolments of erased patients, wherever they are
(still in the registry, or removed by the reader and held in memory by
``reg.report.erasure.removed``), so that a clinic day can say how many got no profile — a count,
never an id.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["erased_enrolments", "erased_patients"]


def erased_patients(reg, on=None) -> frozenset[str]:
    """Patient ids with a ``sletting`` effective on or before ``on`` (default: today, the day the
    output is made); empty without ``rights_requests``."""
    from opr_analysis.rights import erased_patients as rule

    return frozenset(rule(reg, on=on).astype(str))


def erased_enrolments(reg, erased: frozenset[str]) -> pd.DataFrame:
    """The enrolments of the ``erased`` patients: those still in ``reg.enrolments`` and those the
    reader already left out (``reg.report.erasure.removed``, in memory only). For counting."""
    e = reg.enrolments
    parts = [e[e["patient_id"].astype(str).isin(erased)]]
    erasure = getattr(getattr(reg, "report", None), "erasure", None)
    removed = getattr(erasure, "removed", {}) or {}
    if "enrolments" in removed:
        parts.append(removed["enrolments"])
    return pd.concat(parts) if len(parts) > 1 else parts[0]
