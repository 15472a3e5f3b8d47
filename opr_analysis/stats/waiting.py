"""Waiting time from the right to health care to the first consultation, as it stood at the as-of date.

Each enrolment is followed from its ``granted_date`` (day 0) until its
``first_consultation_date``; whole calendar days (:func:`~opr_analysis.stats.derived.days_between`).
Everything is seen as at the end of the as-of day, as in the follow-up audit.

Counting rules (:func:`waiting_times`)
--------------------------------------
========================== =====================================================================
``status``                 meaning, and what the waiting-time statistics do with it
========================== =====================================================================
``sett``                   first consultation on or before the as-of date: an *event* at its day
``venter``                 no first consultation by the as-of date (none recorded, or one dated
                           after it: it had not happened yet): *censored* at the as-of date
``avsluttet_uten_konsultasjon``  closed on or before the as-of date without a first consultation
                           by then: **left out** (below)
``konsultasjon_for_rett``  first consultation dated before the grant: a data error (shown in the
                           data-quality chapter), left out
``rett_etter_kjoringsdato`` granted after the as-of date: not yet in the queue, left out
``ukjent``                 no grant date, left out
========================== =====================================================================

Enrolments closed without a consultation are left out of every waiting-time
statistic. The patient left the queue (recovered, moved, declined, was sent
elsewhere) without being seen: counting the enrolment as a failure of the
60-day target would blame the unit for a patient it was not going to see, and
censoring it at the closing date would assume the patient would have gone on
to wait like those who stayed. Leaving it out answers «how long did patients
who were seen, or are still waiting, wait?». The count left out is in
``status`` for anyone who wants to check its size.

The median (:func:`km_median`)
------------------------------
Patients still waiting at the as-of date have waited *at least* until then.
The median of the waits seen so far ignores them and is too short for the last
year (the longest waits are the ones not finished yet). The median is therefore
the Kaplan–Meier median (statsmodels ``SurvfuncRight``; still waiting =
censored at the as-of date): the first day at which the estimated share still
waiting falls below one half (statsmodels' and SAS's convention; R's
``survfit`` takes the midpoint when the curve sits exactly at one half). Its
95 % limits are Brookmeyer–Crowley's, on the complementary log-log scale
(``SurvfuncRight.quantile_ci``). When fewer than half have been seen, the
median is not reached and is blank.

The share seen within ``days`` (:func:`complete_window`)
--------------------------------------------------------
Only enrolments whose whole window has passed by the as-of date count:
granted at least ``days`` days before it. A recent grant still inside its
window is neither a success nor a failure yet; counting it only once seen (the
rule before issue 24) kept the quick ones and left out the slow ones, which
made the last year look better.

>>> km_median([10, 20, 30, 40], [True] * 4)[0]  # share still waiting 0.75, 0.5, 0.25, 0: first below ½
30.0
>>> km_median([10, 20, 30, 40], [True, False, False, True])[0]  # 20 and 30 still waiting at the as-of date
40.0
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

STATUSES = {
    "sett": "førstekonsultasjon innen kjøringsdatoen",
    "venter": "venter fortsatt ved kjøringsdatoen (sensurert)",
    "avsluttet_uten_konsultasjon": "avsluttet uten førstekonsultasjon (utelatt)",
    "konsultasjon_for_rett": "førstekonsultasjon datert før rett til helsehjelp (utelatt)",
    "rett_etter_kjoringsdato": "rett til helsehjelp etter kjøringsdatoen (utelatt)",
    "ukjent": "mangler dato for rett til helsehjelp (utelatt)",
}

#: Statuses that take part in the waiting-time statistics.
INCLUDED = ("sett", "venter")


def _day(s: pd.Series) -> pd.Series:
    s = pd.Series(s)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("Europe/Oslo").dt.tz_localize(None)
    return s.dt.normalize().astype("datetime64[ns]")


def waiting_times(reg, as_of=None) -> pd.DataFrame:
    """One row per enrolment (index aligned with ``reg.enrolments``): enrolment_id, year (of the grant),
    granted_date, days (to the consultation, or to the as-of date when still waiting), event (seen by
    the as-of date), status (:data:`STATUSES`) and included (status in :data:`INCLUDED`)."""
    as_of = pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    e = reg.enrolments
    granted = _day(e["granted_date"])
    seen_on = _day(e["first_consultation_date"])
    closed = _day(e["closed_date"]) if "closed_date" in e else pd.Series(pd.NaT, index=e.index)
    seen = seen_on.notna() & (seen_on <= as_of)
    status = np.select(
        [
            granted.isna(),
            granted > as_of,
            seen & (seen_on < granted),
            seen,
            closed.notna() & (closed <= as_of),
        ],
        ["ukjent", "rett_etter_kjoringsdato", "konsultasjon_for_rett", "sett", "avsluttet_uten_konsultasjon"],
        default="venter",
    )
    end = seen_on.where(seen, as_of)
    return pd.DataFrame(
        {
            "enrolment_id": e["enrolment_id"].astype(object),
            "year": granted.dt.year.astype("Int64"),
            "granted_date": granted,
            "days": (end - granted).dt.days.astype("Float64"),
            "event": seen.to_numpy(dtype=bool) & (status == "sett"),
            "status": status,
            "included": np.isin(status, INCLUDED),
        },
        index=e.index,
    )


def complete_window(times: pd.DataFrame, days: int, as_of) -> pd.Series:
    """Included enrolments granted at least ``days`` days before the as-of date (module docstring)."""
    as_of = pd.Timestamp(as_of).normalize()
    return times["included"] & (times["granted_date"] + pd.Timedelta(days=int(days)) <= as_of)


def km_median(days, events, alpha: float = 0.05) -> tuple[float, float, float]:
    """(median, low, high): the Kaplan–Meier median of ``days`` with ``events`` (False = censored) and its
    1 − ``alpha`` limits (module docstring); NaN where not reached or not estimable."""
    t = np.asarray(days, dtype=float)
    d = np.asarray(events, dtype=bool)
    keep = ~np.isnan(t)
    t, d = t[keep], d[keep]
    if not len(t) or not d.any():
        return np.nan, np.nan, np.nan
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(t, d.astype(float))
    median = float(sf.quantile(0.5))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            low, high = sf.quantile_ci(0.5, alpha=alpha)
        except (ValueError, ZeroDivisionError, IndexError):
            low, high = np.nan, np.nan
    return median, float(low), float(high)
