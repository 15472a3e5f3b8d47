"""Row-level indicator statistics: per-row numerator/denominator flags (Rapporteket's rapwhale).

Each function takes the registry (and the run's as-of date plus the
indicator's ``params``) and returns one row per case with columns:

- ``unit_id``: the unit the case belongs to (:mod:`opr_analysis.extract.units`);
- ``year``: the year the case counts in;
- ``denominator``: 1 when the case is in the denominator, else 0;
- ``numerator`` (share indicators): 1 when the case also meets the target;
- ``value`` (mean/median indicators): the case's value (NaN outside the denominator).

:func:`opr_analysis.indicators.compute.aggregate` sums or summarises these per
unit and year; 0/0 gives NA. The functions reuse the registry statistics
(``followup_audit``, ``enrolment_baseline_flags``, ``paired_outcomes``) so an
indicator is counted exactly as the annual report counts the same thing.

Waiting time (:func:`waiting_within`, :func:`waiting_days`): days from
``granted_date`` to ``first_consultation_date``; a first consultation before the
grant (a data error) is left out. An enrolment with no first consultation is in
the share's denominator once it has waited more than ``days`` by the as-of
date (it has certainly missed the target), never in the median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract.units import anchor_units, row_units
from ..stats.baseline import enrolment_baseline_flags
from ..stats.followup import followup_audit
from ..stats.proms import paired_outcomes

ROW_COLUMNS = ["unit_id", "year", "denominator", "numerator", "value"]


def _rows(unit_id, year, denominator, numerator=None, value=None) -> pd.DataFrame:
    n = len(year)
    out = pd.DataFrame(
        {
            "unit_id": np.asarray(unit_id, dtype=object),
            "year": np.asarray(year, dtype="int64"),
            "denominator": np.asarray(denominator, dtype=bool).astype("int64"),
        }
    )
    num = np.zeros(n, dtype=bool) if numerator is None else np.asarray(numerator, dtype=bool)
    out["numerator"] = (num & out["denominator"].astype(bool).to_numpy()).astype("int64")
    out["value"] = np.full(n, np.nan) if value is None else np.asarray(value, dtype="float64")
    return out


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def _waits(reg) -> tuple[pd.DataFrame, pd.Series]:
    e = reg.enrolments
    days = (e["first_consultation_date"] - e["granted_date"]).dt.days.astype("Float64")
    return e, days.where(days >= 0)


def waiting_within(reg, as_of=None, days: int = 60) -> pd.DataFrame:
    """Share of enrolments seen within ``days`` of the grant (module docstring)."""
    e, wait = _waits(reg)
    waited = (_as_of(as_of) - e["granted_date"]).dt.days
    open_late = e["first_consultation_date"].isna() & (waited > days)
    denominator = (wait.notna() | open_late).to_numpy(dtype=bool)
    numerator = (wait <= days).fillna(False).to_numpy(dtype=bool)
    return _rows(row_units(reg, "enrolments"), e["granted_date"].dt.year, denominator, numerator)


def waiting_days(reg, as_of=None) -> pd.DataFrame:
    """Days from grant to first consultation, for enrolments that have had it."""
    e, wait = _waits(reg)
    return _rows(
        row_units(reg, "enrolments"),
        e["granted_date"].dt.year,
        wait.notna().to_numpy(dtype=bool),
        value=wait.astype("float64").to_numpy(),
    )


def baseline_before_consultation(reg, as_of=None) -> pd.DataFrame:
    """Enrolments with a baseline in the patient-level window (stats.baseline)."""
    flags = enrolment_baseline_flags(reg)
    return _rows(row_units(reg, "enrolments"), flags["year"], np.ones(len(flags), bool), flags["with_baseline"] > 0)


def _audit(reg, as_of) -> pd.DataFrame:
    """The follow-up audit, computed once per registry and as-of day for all follow-up indicators."""
    key = ("indicators.followup_audit", None if as_of is None else pd.Timestamp(as_of).normalize())
    if hasattr(type(reg), "memo"):
        return reg.memo(key, lambda: followup_audit(reg, as_of))
    return followup_audit(reg, as_of)


def followup_answered(reg, as_of=None, kind: str = "rf_3m") -> pd.DataFrame:
    """Owed follow-ups of ``kind`` that were sent (first dispatch, ``sent_owed``), answered or not."""
    audit = _audit(reg, as_of)
    rows = audit[audit["sent_owed"] & (audit["kind"] == kind)]
    units = anchor_units(reg, rows["anchor_id"], rows["kind"])
    return _rows(units, rows["year"], np.ones(len(rows), bool), rows["responded"].to_numpy(dtype=bool))


def _outcome(reg, as_of, months: int, flag: str) -> pd.DataFrame:
    po = paired_outcomes(reg, as_of)
    po = po[(po["first_answer"] & (po["months"] == months)).fillna(False).astype(bool)]
    units = anchor_units(reg, po["anchor_id"], po["kind"])
    known = po[flag].notna().to_numpy(dtype=bool)
    return _rows(units, po["year"], known, po[flag].fillna(False).to_numpy(dtype=bool))


def nrs_improved_30(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """Answered follow-ups ``months`` after, with ≥ 30 % lower average pain than the paired baseline."""
    return _outcome(reg, as_of, months, "nrs_improved_30")


def pgic_improved(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """Answered follow-ups ``months`` after with PGIC «mye» or «svært mye bedre»."""
    return _outcome(reg, as_of, months, "pgic_improved")


#: Statistic name (as written in indicators.yaml) -> function.
STATISTICS = {
    f.__name__: f
    for f in (
        waiting_within,
        waiting_days,
        baseline_before_consultation,
        followup_answered,
        nrs_improved_30,
        pgic_improved,
    )
}

#: Statistic -> the published table that counts the same cases, so that every publication hides them alike
#: (:mod:`opr_analysis.report.unit_disclosure`): ``(table, rows, numerator column, denominator column)``,
#: ``rows`` a :meth:`pandas.DataFrame.query` string filled in with the indicator's ``params`` (None: every
#: row), summed per year. ``tests/test_unit_disclosure.py`` checks that the numbers agree, for every unit
#: and year; a statistic counted differently from its table must be taken out here.
PUBLISHED_AS = {
    "followup_answered": ("followup_response", "kind == '{kind}'", "responded_owed", "sent_owed"),
    "baseline_before_consultation": (
        "baseline_response_patient_level", None, "enrolments_with_baseline", "enrolments",
    ),
}  # fmt: skip
