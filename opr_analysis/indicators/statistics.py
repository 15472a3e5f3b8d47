"""Row-level indicator statistics: per-row numerator/denominator flags (Rapporteket's rapwhale).

Each function takes the registry (and the run's as-of date plus the
indicator's ``params``) and returns one row per case with columns:

- ``unit_id``: the unit the case belongs to (:mod:`opr_analysis.extract.units`);
- ``year``: the year the case counts in;
- ``denominator``: 1 when the case is in the denominator, else 0;
- ``numerator`` (share indicators): 1 when the case also meets the target;
- ``value`` (mean/median indicators): the case's value (NaN outside the denominator);
- ``event`` (time-to-event medians only): 1 when ``value`` is an observed time,
  0 when it is censored (still waiting at the as-of date).

:func:`opr_analysis.indicators.compute.aggregate` sums or summarises these per
unit and year; 0/0 gives NA. The functions reuse the registry statistics
(``followup_audit``, ``baseline_links``, ``paired_outcomes``, ``waiting_times``) so an
indicator is counted exactly as the annual report counts the same thing, and
every one is seen as it stood at the end of the as-of day.

Waiting time (:func:`waiting_within`, :func:`waiting_days`; rules in
:mod:`opr_analysis.stats.waiting`): days from ``granted_date`` to
``first_consultation_date``. Enrolments closed without a consultation, and
first consultations dated before the grant, are left out; a consultation dated
after the as-of date has not happened yet. The share seen within ``days``
counts only grants whose whole window has passed by the as-of date. The median
is the Kaplan–Meier median, patients still waiting censored at the as-of date.

Baseline (:func:`baseline_before_consultation`): enrolments granted on or before
the as-of date; a baseline counts when it was submitted on or before both the
first consultation and the as-of date (a consultation after the as-of date has
not happened yet), in the patient-level window of :mod:`opr_analysis.stats.baseline`.

Follow-up response (:func:`followup_answered`): the denominator is every *owed*
follow-up of the kind that is settled at the as-of date
(:func:`opr_analysis.stats.followup.settled_at`: sent, or if never sent due, at
least the response window before it), sent or not; the numerator those
answered. Dividing by what was owed, not by what was sent, measures the whole
process: a unit that fails to send scores lower instead of better. This is the
follow-up table's ``owed_answered_share``; its ``response_share_settled``
divides by the questionnaires sent instead and answers a different question.

Outcomes (:func:`nrs_improved_30`, :func:`pgic_improved`) count answers only
and are not adjusted for case mix. :func:`outcome_response` gives, for the same
unit and year, the share of owed follow-ups at the same months that were
answered, shown beside each outcome indicator (:data:`RESPONSE_OF`).

First whole year (:func:`first_whole_year`): an indicator's years start at the
first whole calendar year of its data source; earlier years are left out of the
results and the delivery.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract.needs import reads
from ..extract.units import anchor_units, row_units
from ..stats.baseline import baseline_links
from ..stats.followup import MONTHS, first_whole_due_year, followup_audit, followup_kinds
from ..stats.proms import paired_outcomes
from ..stats.trends import SERIES
from ..stats.waiting import complete_window, waiting_times

ROW_COLUMNS = ["unit_id", "year", "denominator", "numerator", "value"]


def _rows(unit_id, year, denominator, numerator=None, value=None, event=None) -> pd.DataFrame:
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
    if event is not None:
        out["event"] = np.asarray(event, dtype=bool).astype("int64")
    return out


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def _waits(reg, as_of) -> tuple[pd.DataFrame, pd.Series]:
    """Waiting times of the included enrolments (granted on or before the as-of date) and their units."""
    times = waiting_times(reg, _as_of(as_of))
    keep = times["year"].notna().to_numpy()
    return times[keep], row_units(reg, "enrolments")[keep]


@reads("enrolments", "units")
def waiting_within(reg, as_of=None, days: int = 60) -> pd.DataFrame:
    """Share of enrolments seen within ``days`` of the grant, among grants whose window has passed (module
    docstring)."""
    times, units = _waits(reg, as_of)
    denominator = complete_window(times, days, _as_of(as_of)).to_numpy(dtype=bool)
    numerator = (times["event"] & (times["days"] <= days)).fillna(False).to_numpy(dtype=bool)
    return _rows(units, times["year"].astype("int64"), denominator, numerator)


@reads("enrolments", "units")
def waiting_days(reg, as_of=None) -> pd.DataFrame:
    """Days from grant to first consultation, or to the as-of date for patients still waiting (censored)."""
    times, units = _waits(reg, as_of)
    return _rows(
        units,
        times["year"].astype("int64"),
        times["included"].to_numpy(dtype=bool),
        value=times["days"].astype("float64").where(times["included"]).to_numpy(),
        event=times["event"].to_numpy(dtype=bool),
    )


@reads(baseline_links, "units")
def baseline_before_consultation(reg, as_of=None) -> pd.DataFrame:
    """Enrolments granted by the as-of date with a baseline in the patient-level window by then (module
    docstring)."""
    as_of = _as_of(as_of)
    e = reg.enrolments
    links = baseline_links(reg)
    counted = links[links["before_consultation"] & (links["submitted_date"] <= as_of)]
    with_baseline = e["enrolment_id"].astype(object).isin(set(counted["enrolment_id"].dropna()))
    granted = e["granted_date"].dt.normalize()
    keep = (granted.notna() & (granted <= as_of)).to_numpy()
    return _rows(
        row_units(reg, "enrolments")[keep],
        granted.dt.year[keep],
        np.ones(int(keep.sum()), bool),
        with_baseline.to_numpy(dtype=bool)[keep],
    )


def _audit(reg, as_of) -> pd.DataFrame:
    """The follow-up audit, computed once per registry and as-of day for all follow-up indicators."""
    key = ("indicators.followup_audit", None if as_of is None else pd.Timestamp(as_of).normalize())
    if hasattr(type(reg), "memo"):
        return reg.memo(key, lambda: followup_audit(reg, as_of))
    return followup_audit(reg, as_of)


def _answered_of_owed(reg, as_of, kinds: list[str]) -> pd.DataFrame:
    """Owed follow-ups of ``kinds`` settled at the as-of date (sent or not), numerator answered."""
    audit = _audit(reg, as_of)
    rows = audit[audit["settled"] & audit["kind"].isin(kinds)]
    units = anchor_units(reg, rows["anchor_id"], rows["kind"])
    return _rows(units, rows["year"], np.ones(len(rows), bool), rows["responded"].to_numpy(dtype=bool))


@reads(followup_audit, "treatments", "enrolments", "units")
def followup_answered(reg, as_of=None, kind: str = "rf_3m") -> pd.DataFrame:
    """Owed follow-ups of ``kind`` settled at the as-of date, sent or not; numerator: answered (module docstring)."""
    return _answered_of_owed(reg, as_of, [kind])


def _outcome(reg, as_of, months: int, flag: str) -> pd.DataFrame:
    po = paired_outcomes(reg, as_of)
    po = po[(po["first_answer"] & (po["months"] == months)).fillna(False).astype(bool)]
    units = anchor_units(reg, po["anchor_id"], po["kind"])
    known = po[flag].notna().to_numpy(dtype=bool)
    return _rows(units, po["year"], known, po[flag].fillna(False).to_numpy(dtype=bool))


@reads(paired_outcomes, "treatments", "enrolments", "units")
def nrs_improved_30(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """Answered follow-ups ``months`` after, with ≥ 30 % lower average pain than the paired baseline."""
    return _outcome(reg, as_of, months, "nrs_improved_30")


@reads(paired_outcomes, "treatments", "enrolments", "units")
def pgic_improved(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """Answered follow-ups ``months`` after with PGIC «mye» or «svært mye bedre»."""
    return _outcome(reg, as_of, months, "pgic_improved")


def _kinds_at(months: int) -> list[str]:
    return [k for k in followup_kinds() if MONTHS.get(k.rsplit("_", 1)[-1]) == int(months)]


@reads(followup_audit, "treatments", "enrolments", "units")
def outcome_response(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """The response behind an outcome indicator: owed follow-ups ``months`` after (every kind), settled at the
    as-of date, sent or not; numerator: answered. Shown beside the outcome (module docstring)."""
    return _answered_of_owed(reg, as_of, _kinds_at(months))


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

#: Outcome statistics (responder-only) -> the statistic of the response beside them (same params).
RESPONSE_OF = {"nrs_improved_30": outcome_response, "pgic_improved": outcome_response}


def first_whole_year(statistic: str, params: dict | None = None) -> int | None:
    """The first whole calendar year of the statistic's data source (None: the first year in the data).

    Follow-ups start with procedures from 1 June 2021 and enrolments closed from
    1 December 2021, so a kind's first due dates fall inside a year
    (:func:`~opr_analysis.stats.followup.first_whole_due_year`); the baseline
    questionnaire service started in December 2020 (:data:`opr_analysis.stats.trends.SERIES`);
    the waiting times come from DIPS, which covers whole years.

    >>> first_whole_year("followup_answered", {"kind": "rf_12m"}), first_whole_year("followup_answered")
    (2023, 2022)
    """
    params = params or {}
    if statistic == "followup_answered":
        return first_whole_due_year(params.get("kind", "rf_3m"))
    if statistic in RESPONSE_OF:
        return max(first_whole_due_year(k) for k in _kinds_at(params.get("months", 12)))
    if statistic == "baseline_before_consultation":
        return SERIES["baseline_response_share_patient_level"][0]
    return None


def _kinds_rows(params: dict) -> str:
    return f"kind in {_kinds_at(params.get('months', 12))!r}"


#: Statistic -> the published table that counts the same cases, so that every publication hides them alike
#: (:mod:`opr_analysis.report.unit_disclosure`): ``(table, rows, numerator column, denominator column)``,
#: ``rows`` a :meth:`pandas.DataFrame.query` string filled in with the indicator's ``params`` (or a function
#: of them; None: every row), summed per year. ``tests/test_unit_disclosure.py`` checks that the numbers
#: agree, for every unit and year; a statistic counted differently from its table must be taken out here.
PUBLISHED_AS = {
    "followup_answered": ("followup_response", "kind == '{kind}'", "responded_settled", "owed_settled"),
    "outcome_response": ("followup_response", _kinds_rows, "responded_settled", "owed_settled"),
    "baseline_before_consultation": (
        "baseline_response_patient_level", None, "enrolments_with_baseline", "enrolments",
    ),
}  # fmt: skip
