"""Baseline response: the seed's forms-per-enrolment rate (table 12), the OPRv1
legacy rate (table 13) and a patient-level rate (issue 3.3).

Window of the patient-level rate
--------------------------------
Each submitted baseline belongs to the patient's most recent enrolment granted
on or before the submission date (calendar dates, Europe/Oslo). An enrolment
*has a baseline* when at least one baseline belonging to it was submitted on or
before its ``first_consultation_date`` (answering on the day of the first
consultation counts); an enrolment with no first consultation yet counts any
baseline belonging to it. So the window is
``granted_date <= date(submitted_at) <= first_consultation_date``, and it never
reaches past the patient's next enrolment. A baseline submitted before any
enrolment of its patient belongs to none (see :func:`baseline_links`).

Examples
--------
>>> baseline_response_patient_level(reg)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract.needs import reads
from .linking import _NAT, _day_numbers, _enrolment_positions, enrolment_of, patient_codes
from .linking import day as _day
from .memo import shared, year_of
from .shares import add_share, count_grid, year_range

_memo = shared  # the shared derived frames of this module


@reads("baseline_responses", "enrolments")
def baseline_links(reg) -> pd.DataFrame:
    return _memo(reg, "baseline_links", ("baseline_responses", "enrolments"), _baseline_links)


def _baseline_links(reg) -> pd.DataFrame:  # the docstring is baseline_links'; set below
    """One row per baseline response, with the enrolment it belongs to.

    Columns: response_id, patient_id, submitted_at, submitted_date,
    enrolment_id (NA when submitted before any enrolment of the patient),
    granted_date, first_consultation_date, before_consultation (bool: within the
    window above), after_consultation (bool: submitted after the first consultation).
    """
    r = reg.baseline_responses
    e = reg.enrolments
    resp = pd.DataFrame(
        {
            "response_id": r["response_id"].astype(object),
            "patient_id": r["patient_id"].astype(object),
            "submitted_at": r["submitted_at"],
            "submitted_date": _day(r["submitted_at"]),
            "enrolment_id": enrolment_of(e, r["patient_id"], r["submitted_at"]).astype(object),
        }
    )
    enr = pd.DataFrame(
        {
            "enrolment_id": e["enrolment_id"].astype(object),
            "granted_date": _day(e["granted_date"]),
            "first_consultation_date": _day(e["first_consultation_date"]),
        }
    )
    linked = resp.merge(enr, on="enrolment_id", how="left")
    linked = linked.sort_values("response_id", kind="stable").reset_index(drop=True)
    has = linked["enrolment_id"].notna()
    fc = linked["first_consultation_date"]
    linked["before_consultation"] = has & (fc.isna() | (linked["submitted_date"] <= fc))
    linked["after_consultation"] = has & fc.notna() & (linked["submitted_date"] > fc)
    return linked


def _link_flags(reg) -> pd.DataFrame:
    """:func:`baseline_links` as numbers, one row per baseline response (rows of
    ``reg.baseline_responses``, in order): position (row position of its enrolment in
    ``reg.enrolments``, -1 for none), before_consultation, after_consultation.
    What the tables need, without the id columns."""
    return _memo(reg, "baseline_link_flags", ("baseline_responses", "enrolments"), _compute_link_flags)


def _compute_link_flags(reg) -> pd.DataFrame:
    r = reg.baseline_responses
    e = reg.enrolments
    pos = _enrolment_positions(e, r["submitted_at"], *_patient_codes(reg))
    has = pos >= 0
    submitted = _day_numbers(r["submitted_at"])
    fc = np.full(len(pos), _NAT)
    fc[has] = _day_numbers(e["first_consultation_date"])[pos[has]]
    return pd.DataFrame(
        {
            "position": pos,
            "before_consultation": has & ((fc == _NAT) | (submitted <= fc)),
            "after_consultation": has & (fc != _NAT) & (submitted > fc),
        }
    )


def _patient_codes(reg) -> tuple[np.ndarray, np.ndarray]:
    """Integer patient codes of ``reg.enrolments`` and ``reg.baseline_responses`` (one code per
    patient across both, -1 for NA): linking and per-patient counts share one hashing pass."""
    return _memo(reg, "patient_codes", ("enrolments", "baseline_responses"), _compute_patient_codes)


def _compute_patient_codes(reg) -> tuple[np.ndarray, np.ndarray]:
    return tuple(patient_codes(reg.enrolments["patient_id"], reg.baseline_responses["patient_id"]))


def _enrolment_counts(reg) -> pd.DataFrame:
    """Per enrolment (index aligned with ``reg.enrolments``): year, enrolments (1),
    with_baseline (0/1), baselines: :func:`enrolment_baseline_flags` without the id columns."""
    return _memo(reg, "enrolment_counts", ("baseline_responses", "enrolments"), _compute_enrolment_counts)


def _compute_enrolment_counts(reg) -> pd.DataFrame:
    e = reg.enrolments
    links = _link_flags(reg)
    pos = links["position"].to_numpy()
    # enrolment ids are unique (load_extract quarantines repeats), so a position is an enrolment
    n_all = np.bincount(pos[pos >= 0], minlength=len(e))
    n_before = np.bincount(pos[links["before_consultation"].to_numpy()], minlength=len(e))
    return pd.DataFrame(
        {
            "year": _enrolment_years(reg).to_numpy(),
            "enrolments": 1,
            "with_baseline": (n_before > 0).astype("int64"),
            "baselines": n_all.astype("int64"),
        },
        index=e.index,
    )


def _enrolment_rows(reg) -> pd.DataFrame:
    e = reg.enrolments
    counts = _enrolment_counts(reg)
    return pd.DataFrame(
        {
            "enrolment_id": e["enrolment_id"].astype(object),
            "patient_id": e["patient_id"].astype(object),
            **{c: counts[c] for c in ("year", "enrolments", "with_baseline", "baselines")},
        },
        index=e.index,
    )


@reads("baseline_responses", "enrolments")
def enrolment_baseline_flags(reg) -> pd.DataFrame:
    """One row per enrolment (index aligned with ``reg.enrolments``): enrolment_id, patient_id,
    year (granted), enrolments (1), with_baseline (0/1: a baseline in the window above),
    baselines (count). The row-level flags behind :func:`baseline_response_patient_level`."""
    return _enrolment_rows(reg)


def _response_years(reg) -> pd.Series:
    return year_of(reg, "baseline_responses", "submitted_at")


def _enrolment_years(reg) -> pd.Series:
    return year_of(reg, "enrolments", "granted_date")


@reads("baseline_responses", "enrolments")
def baseline_response(reg) -> pd.DataFrame:
    return _memo(reg, "baseline_response", ("baseline_responses", "enrolments"), _baseline_response)


def _baseline_response(reg) -> pd.DataFrame:
    """Seed table 12: year, enrolments, baseline_responses, response_share.

    Forms submitted in a year (``submitted_at``) over enrolments granted that
    year (``granted_date``); years run over both. This is a ratio, not a
    proportion: the forms are not a subset of the enrolments (a patient may
    answer twice, a form may belong to last year's enrolment), and it can
    exceed 1. So it has no confidence limits in any year; the proportion with
    limits is :func:`baseline_response_patient_level`.
    """
    e_years = _enrolment_years(reg)
    r_years = _response_years(reg)
    years = year_range(e_years, r_years)
    is_enrolment = np.repeat([True, False], [len(e_years), len(r_years)])
    rows = pd.DataFrame(
        {
            "year": np.concatenate([e_years.to_numpy(), r_years.to_numpy()]),
            "enrolments": is_enrolment,
            "baseline_responses": ~is_enrolment,
        }
    )
    out = count_grid(rows, {"year": years}, {"enrolments": "enrolments", "baseline_responses": "baseline_responses"})
    return add_share(out, "response_share", "baseline_responses", "enrolments", ci=False)


@reads("baseline_responses", "enrolments")
def baseline_response_patient_level(reg) -> pd.DataFrame:
    return _memo(
        reg, "baseline_response_patient_level", ("baseline_responses", "enrolments"), _baseline_response_patient_level
    )


def _baseline_response_patient_level(reg) -> pd.DataFrame:
    """Issue 3.3: share of enrolments with a baseline in the window (module docstring).

    Columns: year, enrolments, enrolments_with_baseline, response_share (+ limits),
    baseline_responses, seed_response_share (table 12's forms / enrolments),
    difference (= response_share − seed_response_share). Years as in table 12.
    """
    seed = baseline_response(reg)
    rows = _enrolment_counts(reg)
    counts = count_grid(
        rows, {"year": list(seed["year"])}, {"enrolments": "enrolments", "enrolments_with_baseline": "with_baseline"}
    )
    out = add_share(counts, "response_share", "enrolments_with_baseline", "enrolments")
    out["baseline_responses"] = seed["baseline_responses"].to_numpy()
    out["seed_response_share"] = seed["response_share"].to_numpy()
    out["difference"] = out["response_share"] - out["seed_response_share"]
    return out


@reads("legacy_v1")
def legacy_baseline_response(reg) -> pd.DataFrame:
    """Seed table 13 (OPRv1): year, baseline_responses, new_patients, response_share.

    Infopad answers over DIPS new patients: counts from two systems, not a
    subset of one another, so the ratio has no confidence limits.

    A year inside the range that the table does not hold has blank counts
    (aggregates that were not delivered are unknown, not zero).
    """
    v1 = reg.legacy_v1
    years = year_range(v1["year"])
    out = (
        v1.assign(year=v1["year"].astype("int64"))
        .set_index("year")[["baseline_responses", "new_patients"]]
        .astype("Int64")
        .reindex(pd.Index(years, name="year", dtype="int64"))
        .reset_index()
    )
    return add_share(out, "response_share", "baseline_responses", "new_patients", ci=False)


baseline_links.__doc__ = _baseline_links.__doc__
baseline_response.__doc__ = _baseline_response.__doc__
baseline_response_patient_level.__doc__ = _baseline_response_patient_level.__doc__
