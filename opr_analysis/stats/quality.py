"""Data-quality tables (seed §3.2 and §7.2), each with counts and shares (+ Wilson limits).

Years are those of the table the check is about: enrolments by ``granted_date``,
baseline responses by ``submitted_at``; each table runs from its first to its
last year, zeros included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract import codebook
from ..extract.needs import reads
from .baseline import _enrolment_counts, _link_flags, _patient_codes
from .linking import _NAT, _day_numbers
from .memo import year_of
from .shares import add_share, count_grid, year_range

# The date that gives each table's year (tables without one are not checked per year).
YEAR_COLUMNS = {
    "referrals": "assessed_date",
    "enrolments": "granted_date",
    "baseline_responses": "submitted_at",
    "short_forms": "date",
    "treatments": "date",
    "followups": "sent_date",
    "legacy_v1": "year",
}


def _years(reg, table: str) -> pd.Series:
    """The year of each row of ``table`` (:data:`YEAR_COLUMNS`)."""
    return year_of(reg, table, YEAR_COLUMNS[table])


@reads("enrolments")
def quality_closed_in_dips_list(reg) -> pd.DataFrame:
    """Enrolments closed in DIPS but open in the registry: enrolment_id, patient_id,
    granted_date, dips_closed_date (the list the office staff work through)."""
    e = reg.enrolments
    sel = e[e["dips_closed_date"].notna() & e["closed_date"].isna()]
    return sel[["enrolment_id", "patient_id", "granted_date", "dips_closed_date"]].reset_index(drop=True)


@reads("enrolments")
def quality_closed_in_dips(reg) -> pd.DataFrame:
    """year, enrolments, closed_in_dips, open_in_registry, open_in_registry_share (+ limits).

    open_in_registry = closed in DIPS (dips_closed_date) but not in the registry
    (closed_date blank); the share is over enrolments closed in DIPS.
    """
    e = reg.enrolments
    closed_in_dips = e["dips_closed_date"].notna().to_numpy()
    rows = pd.DataFrame(
        {
            "year": _years(reg, "enrolments").to_numpy(),
            "enrolments": 1,
            "closed_in_dips": closed_in_dips,
            "open_in_registry": closed_in_dips & e["closed_date"].isna().to_numpy(),
        }
    )
    out = count_grid(
        rows, {"year": year_range(rows["year"])}, {c: c for c in ("enrolments", "closed_in_dips", "open_in_registry")}
    )
    return add_share(out, "open_in_registry_share", "open_in_registry", "closed_in_dips")


# Response-rate experiments (contract v1.1, issue 18): a blank variant means the full
# questionnaire was sent, so it is a value, not a missing one.
NOT_MISSING = {("followups", "variant")}


@reads(*YEAR_COLUMNS)
def quality_missing(reg) -> pd.DataFrame:
    """table, column, year, rows, missing, missing_share (+ limits): every optional column
    of every table with a year, every year of that table.

    A blank is not always an error: ``closed_date`` blank means still in treatment,
    ``responded_at`` blank means no answer, ``first_consultation_date`` blank
    means not yet attended. The table reports blanks; reading them is the user's.
    """
    cb = codebook.load()
    parts = []
    for table in YEAR_COLUMNS:
        frame = reg.tables[table]
        # unit_id (contract v1.1) is left out: blank is never missing data there (no units = one unit).
        optional = [
            c
            for c, col in cb.tables[table].columns.items()
            if col.optional and (table, c) not in NOT_MISSING and c != "unit_id"
        ]
        if not optional:
            continue
        years = _years(reg, table)
        # One pass over the table for all its optional columns.
        blanks = {f"missing_{i}": frame[c].isna().to_numpy() for i, c in enumerate(optional)}
        rows = pd.DataFrame({"year": years.to_numpy(), "rows": 1, **blanks})
        counts = count_grid(rows, {"year": year_range(years)}, {"rows": "rows", **{k: k for k in blanks}})
        for i, column in enumerate(optional):
            part = counts[["year", "rows", f"missing_{i}"]].rename(columns={f"missing_{i}": "missing"})
            parts.append(part.assign(table=table, column=column))
    cols = ["table", "column", "year", "rows", "missing"]
    out = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    return add_share(out, "missing_share", "missing", "rows")


@reads("enrolments", "baseline_responses")
def quality_multiple_enrolments(reg) -> pd.DataFrame:
    """year, patients, patients_multiple (more than one enrolment granted that year),
    multiple_share (+ limits), enrolments."""
    per = _enrolments_per_patient_year(_years(reg, "enrolments").to_numpy(), _patient_codes(reg)[0])
    rows = per.assign(patients=1, patients_multiple=(per["k"] > 1).astype("int64"))
    out = count_grid(
        rows,
        {"year": year_range(rows["year"])},
        {"patients": "patients", "patients_multiple": "patients_multiple", "enrolments": "k"},
    )
    out = add_share(
        out[["year", "patients", "patients_multiple"]], "multiple_share", "patients_multiple", "patients"
    ).assign(enrolments=out["enrolments"])
    return out


def _enrolments_per_patient_year(years: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """year, k: one row per (year granted, patient) with k enrolments; enrolments without a
    patient_id are left out. Counted on integer patient codes (``codes``, -1 for NA): a
    group-by on the text ids would sort them."""
    keep = codes >= 0
    if not keep.any():
        return pd.DataFrame({"year": np.array([], dtype="int64"), "k": np.array([], dtype="int64")})
    years, codes = years[keep], codes[keep].astype("int64")
    first, size = years.min(), codes.max() + 1
    pairs, k = np.unique((years - first) * size + codes, return_counts=True)
    return pd.DataFrame({"year": pairs // size + first, "k": k.astype("int64")})


@reads("enrolments", "baseline_responses")
def quality_multiple_baselines(reg) -> pd.DataFrame:
    """year (granted), enrolments, enrolments_multiple_baselines, multiple_share (+ limits).

    A baseline belongs to the patient's latest enrolment granted on or before the
    submission date (see :mod:`opr_analysis.stats.baseline`).
    """
    rows = _enrolment_counts(reg)
    rows = rows.assign(multiple=(rows["baselines"] > 1).astype("int64"))
    out = count_grid(
        rows,
        {"year": year_range(rows["year"])},
        {"enrolments": "enrolments", "enrolments_multiple_baselines": "multiple"},
    )
    return add_share(out, "multiple_share", "enrolments_multiple_baselines", "enrolments")


@reads("enrolments")
def quality_consultation_before_grant(reg) -> pd.DataFrame:
    """year (granted), enrolments, with_consultation, consultation_before_grant,
    consultation_before_grant_share (over enrolments with a first consultation, + limits).

    consultation_before_grant: ``first_consultation_date`` falls on an earlier
    day than ``granted_date``, which the registry's flow does not allow (the
    right to health care is granted before the first consultation); such an
    enrolment gives a negative waiting time (:func:`.derived.days_between`).
    """
    e = reg.enrolments
    # the sign of days_between(first consultation, granted) on whole days, as day numbers
    consultation = _day_numbers(e["first_consultation_date"])
    granted = _day_numbers(e["granted_date"])
    with_consultation = (consultation != _NAT) & (granted != _NAT)
    rows = pd.DataFrame(
        {
            "year": _years(reg, "enrolments").to_numpy(),
            "enrolments": 1,
            "with_consultation": with_consultation,
            "consultation_before_grant": with_consultation & (consultation < granted),
        }
    )
    names = ["enrolments", "with_consultation", "consultation_before_grant"]
    out = count_grid(rows, {"year": year_range(rows["year"])}, {c: c for c in names})
    return add_share(out, "consultation_before_grant_share", "consultation_before_grant", "with_consultation")


@reads("baseline_responses", "enrolments")
def quality_baseline_after_consultation(reg) -> pd.DataFrame:
    """year (submitted), baseline_responses, without_enrolment, with_enrolment,
    after_consultation, after_consultation_share (over with_enrolment, + limits),
    without_enrolment_share (over all responses, + limits).

    after_consultation: submitted on a later day than the first consultation of
    the enrolment it belongs to. without_enrolment: submitted before any
    enrolment of the patient was granted.
    """
    links = _link_flags(reg)
    linked = links["position"] >= 0
    rows = pd.DataFrame(
        {
            "year": _years(reg, "baseline_responses").to_numpy(),
            "baseline_responses": 1,
            "without_enrolment": ~linked.to_numpy(),
            "with_enrolment": linked.to_numpy(),
            "after_consultation": links["after_consultation"].to_numpy(),
        }
    )
    names = ["baseline_responses", "without_enrolment", "with_enrolment", "after_consultation"]
    out = count_grid(rows, {"year": year_range(rows["year"])}, {c: c for c in names})
    out = add_share(out, "after_consultation_share", "after_consultation", "with_enrolment")
    return add_share(out, "without_enrolment_share", "without_enrolment", "baseline_responses")


@reads(*YEAR_COLUMNS)  # quality_missing reads every table with a year; the others fewer
def quality_tables(reg) -> dict[str, pd.DataFrame]:
    """Every data-quality table, keyed by its CSV name."""
    return {
        "quality_closed_in_dips": quality_closed_in_dips(reg),
        "quality_closed_in_dips_list": quality_closed_in_dips_list(reg),
        "quality_missing": quality_missing(reg),
        "quality_multiple_enrolments": quality_multiple_enrolments(reg),
        "quality_multiple_baselines": quality_multiple_baselines(reg),
        "quality_baseline_after_consultation": quality_baseline_after_consultation(reg),
        "quality_consultation_before_grant": quality_consultation_before_grant(reg),
    }
