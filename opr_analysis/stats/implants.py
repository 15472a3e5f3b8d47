"""The implant register's statistics (contract v1.2, «Implants»): what was implanted and removed, and how long systems last.

Counting rules and decisions:

- Only usable rows of ``implants`` count (the reader's quarantine excludes the others). An
  extract without the table gives empty tables.
- Every table counts what happened on or before the as-of date (the report's); an as-of date
  of None counts everything.
- **Implanted** (:func:`implanted_per_year`): components by the year of ``implanted_date``, by
  component; a replacement (a new generator after a battery change, a new lead after a
  migration, a revised generator put back) is an implantation of its own. Every year from the
  first to the last implantation × every component code, zeros included.
- **Removed** (:func:`explants_by_reason`): components by the year of ``explanted_date`` and
  reason; every year × every reason, zeros included. The report shows the totals per year, per
  reason and in all beside it (one suppression audit over them) and quotes the shares of the
  totals for infection and pocket pain. :func:`explant_reason_shares` (a building block for the
  notebook, not a published table) gives every removal together by reason with the reason's share
  and its 95 % Wilson limits.
- **A system** is what one SCS treatment implanted: the components with that ``treatment_id``.
  Components without a ``treatment_id`` form one system per patient. A system starts at its
  first implantation and *fails* at the first explantation of any of its components for a
  reason other than ``batteri`` (a depleted battery is planned maintenance: the generator is
  replaced and the system goes on); lead migration, infection, pocket pain, lack of effect and
  other reasons are failures.
- A system without a failure is **censored** at the as-of date, or earlier at the last
  explantation if every component has been removed (for battery) and none put back.
  Implantations and explantations after the as-of date have not happened yet.
- **Survival** (:func:`implant_survival`) is the Kaplan–Meier estimate (statsmodels
  ``SurvfuncRight``) with Greenwood's standard error and a pointwise 95 % interval on the
  log(−log) scale (within 0–1; undefined while the estimate is 1). It is tabulated by month
  since implantation, month *m* being day ⌊m · 365,25 / 12⌋ (12 months = 365 days, 24 = 730),
  from 0 up to the last month a system is still followed. Per month: ``systems`` (all),
  ``events`` (failures on or before that day), ``censored`` (censored on or before it) and
  ``followed`` (systems followed beyond it: ``systems = events + censored + followed``).
- :func:`implant_survival_summary` takes the rows of 1 and 2 years; the survival there is blank
  when no system is followed that long.

>>> import pandas as pd
>>> t = pd.Series([100, 200, 300, 300, 400, 500, 800]); e = pd.Series([1, 0, 1, 1, 0, 1, 0])
>>> curve = kaplan_meier(t, e, [0, 365, 730])
>>> curve["survival"].round(4).tolist(), curve["followed"].tolist()
([1.0, 0.5143, 0.2571], [7, 3, 1])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract import codebook
from .shares import ALPHA, add_share, count_grid, year_range

DAYS_PER_YEAR = 365.25
SUMMARY_YEARS = (1, 2)
PLANNED = "batteri"  # the explant reason that is maintenance, not failure


def _codes(column: str) -> list[str]:
    return list(codebook.load().column("implants", column).codes)


def _until(dates: pd.Series, as_of) -> pd.Series:
    """Dates on or before ``as_of`` (every date when it is None); missing dates never."""
    return dates.notna() if as_of is None else (dates <= pd.Timestamp(as_of).normalize()).fillna(False)


def implanted_per_year(reg, as_of=None) -> pd.DataFrame:
    """Components implanted per year and component: year, component, n (module docstring)."""
    imp = reg.implants
    imp = imp[_until(imp["implanted_date"], as_of).to_numpy(dtype=bool)]
    rows = pd.DataFrame(
        {"year": imp["implanted_date"].dt.year.astype("int64"), "component": imp["component"].astype(object), "n": 1}
    )
    return count_grid(rows, {"year": year_range(rows["year"]), "component": _codes("component")}, {"n": "n"})


def _explant_rows(reg, as_of) -> pd.DataFrame:
    """One row per component removed on or before ``as_of``: year, reason, n = 1."""
    imp = reg.implants
    out = imp[_until(imp["explanted_date"], as_of).to_numpy(dtype=bool)]
    return pd.DataFrame(
        {"year": out["explanted_date"].dt.year.astype("int64"), "reason": out["explant_reason"].astype(object), "n": 1}
    )


def explants_by_reason(reg, as_of=None) -> pd.DataFrame:
    """Components removed per year and reason: year, reason, n (module docstring)."""
    rows = _explant_rows(reg, as_of)
    return count_grid(rows, {"year": year_range(rows["year"]), "reason": _codes("explant_reason")}, {"n": "n"})


def explant_reason_shares(reg, as_of=None) -> pd.DataFrame:
    """Every component removed (on or before ``as_of``) by reason, with the reason's share of them all.

    Columns: reason, n, explants (every removal), share, share_ci_low, share_ci_high; no rows when
    nothing has been removed.
    """
    rows = _explant_rows(reg, as_of)
    if rows.empty:
        counts = pd.DataFrame({"reason": pd.Series(dtype=object), "n": pd.Series(dtype="int64")})
    else:
        counts = count_grid(rows, {"reason": _codes("explant_reason")}, {"n": "n"})
    counts["explants"] = int(counts["n"].sum())
    return add_share(counts.astype({"n": "int64", "explants": "int64"}), "share", "n", "explants")


def implant_systems(reg, as_of) -> pd.DataFrame:
    """One row per implanted system (module docstring): system, patient_id, start, end, event, reason, days.

    ``event`` is true for a failure at ``end``; otherwise ``end`` is the censoring date.
    """
    as_of = pd.Timestamp(as_of).normalize()
    imp = reg.implants
    imp = imp[imp["implanted_date"] <= as_of]
    treatment = imp["treatment_id"].astype(object)
    patient = imp["patient_id"].astype(object)
    system = treatment.where(treatment.notna(), "pasient:" + patient.astype(str))
    out = imp["explanted_date"].where(imp["explanted_date"] <= as_of)
    reason = imp["explant_reason"].astype(object)
    failure = out.where(out.notna() & (reason != PLANNED))
    frame = pd.DataFrame(
        {
            "system": system,
            "patient_id": patient,
            "implanted": imp["implanted_date"],
            "out": out,
            "failure": failure,
            "reason": reason.where(failure.notna()),
        }
    )
    g = frame.groupby("system", sort=True)
    first = frame.sort_values(["failure"], na_position="last").drop_duplicates("system").set_index("system")
    systems = pd.DataFrame(
        {
            "patient_id": g["patient_id"].first(),
            "start": g["implanted"].min(),
            "failure": g["failure"].min(),
            "all_out": g["out"].count() == g["out"].size(),
            "last_out": g["out"].max(),
        }
    )
    systems["reason"] = first["reason"].reindex(systems.index)
    systems["event"] = systems["failure"].notna()
    censor = systems["last_out"].where(systems["all_out"], as_of)
    systems["end"] = systems["failure"].where(systems["event"], censor)
    systems["days"] = (systems["end"] - systems["start"]).dt.days.astype("int64")
    return systems.reset_index()[["system", "patient_id", "start", "end", "event", "reason", "days"]]


def kaplan_meier(days: pd.Series, event: pd.Series, at_days) -> pd.DataFrame:
    """Kaplan–Meier survival at each of ``at_days`` (module docstring): statsmodels' estimate, Greenwood's
    standard error, log(−log) 95 % limits, and the counts systems, events, censored, followed.
    """
    from scipy.stats import norm
    from statsmodels.duration.survfunc import SurvfuncRight

    t = np.asarray(days, dtype=float)
    d = np.asarray(event, dtype=bool)
    at = np.asarray(list(at_days), dtype=float)
    surv = np.ones(len(at))
    se = np.zeros(len(at))
    if d.any():
        fit = SurvfuncRight(t, d.astype(int))
        # the step function: the estimate at the last event time on or before each day
        k = np.searchsorted(fit.surv_times, at, side="right") - 1
        surv = np.where(k >= 0, fit.surv_prob[np.maximum(k, 0)], 1.0)
        se = np.where(k >= 0, fit.surv_prob_se[np.maximum(k, 0)], 0.0)
    z = norm.ppf(1 - ALPHA / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = z * se / (surv * np.abs(np.log(surv)))
        low = surv ** np.exp(spread)
        high = surv ** np.exp(-spread)
    defined = (surv > 0) & (surv < 1)
    sorted_t = np.sort(t)
    events_t = np.sort(t[d])
    censored_t = np.sort(t[~d])
    out = pd.DataFrame(
        {
            "days": at.astype("int64"),
            "systems": len(t),
            "events": np.searchsorted(events_t, at, side="right"),
            "censored": np.searchsorted(censored_t, at, side="right"),
            "followed": len(t) - np.searchsorted(sorted_t, at, side="right"),
            "survival": surv,
            "survival_se": se,
            "survival_ci_low": np.where(defined, low, np.where(surv == 0, 0.0, np.nan)),
            "survival_ci_high": np.where(defined, high, np.where(surv == 0, 0.0, np.nan)),
        }
    )
    # Beyond the last time observed the estimate is not defined.
    beyond = at > (t.max() if len(t) else -1)
    out.loc[beyond, ["survival", "survival_se", "survival_ci_low", "survival_ci_high"]] = np.nan
    return out.astype({c: "int64" for c in ("systems", "events", "censored", "followed")})


def month_days(months) -> np.ndarray:
    """Day of each month since implantation: ⌊m · 365,25 / 12⌋.

    >>> month_days([0, 1, 12, 24]).tolist()
    [0, 30, 365, 730]
    """
    return np.floor(np.asarray(months, dtype=float) * DAYS_PER_YEAR / 12).astype("int64")


def implant_survival(reg, as_of) -> pd.DataFrame:
    """Kaplan–Meier survival of the implanted systems by month since implantation (module docstring).

    Columns: month, days, systems, events, censored, followed, survival, survival_se,
    survival_ci_low, survival_ci_high.
    """
    systems = implant_systems(reg, as_of)
    if systems.empty:
        return kaplan_meier([], [], []).assign(month=pd.Series(dtype="int64"))[_CURVE]
    last = int(systems["days"].max())
    months = np.arange(0, int(np.floor(last * 12 / DAYS_PER_YEAR)) + 1)
    months = months[month_days(months) <= last] if len(months) else months
    curve = kaplan_meier(systems["days"], systems["event"], month_days(months))
    curve.insert(0, "month", months.astype("int64"))
    return curve[_CURVE]


_CURVE = ["month", "days", "systems", "events", "censored", "followed", "survival", "survival_se",
          "survival_ci_low", "survival_ci_high"]  # fmt: skip


def implant_survival_summary(curve: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`implant_survival` at 1 and 2 years: years, days, systems, events, censored, followed,
    survival and its limits. A year beyond the curve has the counts and a blank survival."""
    rows = []
    systems = int(curve["systems"].iloc[0]) if len(curve) else 0
    for years in SUMMARY_YEARS:
        month = 12 * years
        hit = curve[curve["month"] == month]
        if len(hit):
            row = hit.iloc[0].to_dict()
        else:  # nobody followed that long: every system has failed or been censored before
            last = curve.iloc[-1].to_dict() if len(curve) else {}
            row = {"systems": systems, "events": last.get("events", 0), "censored": last.get("censored", 0),
                   "followed": 0, "survival": np.nan, "survival_ci_low": np.nan, "survival_ci_high": np.nan}  # fmt: skip
        rows.append({"years": years, "days": int(month_days([month])[0]), **{k: row[k] for k in _SUMMARY[2:]}})
    out = pd.DataFrame(rows, columns=_SUMMARY)
    if not systems:
        out = out.iloc[:0]
    return out.astype({c: "int64" for c in ("years", "days", "systems", "events", "censored", "followed")})


_SUMMARY = ["years", "days", "systems", "events", "censored", "followed", "survival", "survival_ci_low",
            "survival_ci_high"]  # fmt: skip
