"""Reference groups for one patient's scores: who is in them, the percentile and the quartile band.

Reference group
---------------
A profile has a *reference year* Y: the year of the patient's baseline for the enrolment,
else of the first consultation, else of the grant. Its reference groups are built from the
registry's own patients, never from the same year (the patients seen alongside this one):

- **baseline**: baseline responses (:func:`~opr_analysis.stats.proms.baseline_scores`)
  submitted in calendar years before Y, of patients of the same sex and the same age band
  (age at submission by birth year, :func:`age_band`), the profiled patient left out, one
  response per patient (the latest in those years). A score's group is those of them with
  that score.
- **follow-up** (the figure's band at a follow-up): first answers of the same follow-up kind
  (``rf_3m`` …, :func:`~opr_analysis.stats.proms.followup_scores`) due in years before Y,
  same sex and age band (age at the due date), one per patient (the latest), the patient
  left out.

A group with fewer than :data:`MIN_REFERENCE` (20) patients with the score gives no
percentile and no band, and its size is shown only as «under 20»: a percentile or quartile
of so few would tell too much about them, and too little about this patient.

Percentile
----------
``scipy.stats.percentileofscore(reference, value, kind="mean")``: the percentage of the
reference group with a *lower* score plus half the percentage with the *same* score (the
mid-rank percentile). Whole-number scales have many ties; with ``kind="mean"`` a patient
who scores like everyone else is at 50, not at 100. A higher percentile means a higher
score than the group, whatever the score's direction (the page states the direction).

Quartiles: :func:`~opr_analysis.stats.shares.quartile_summary` (linear interpolation, the
house rule).

Age bands: 10-year bands from 18 (``18–29``, ``30–39`` … ``80+``) and ``under 18``
(:func:`age_band`, the registry's one rule :func:`opr_analysis.stats.derived.age_groups`).

>>> percentile(pd.Series([1, 2, 3, 4]), 3)
62.5
>>> age_band(pd.Series([17, 18, 29, 30, 85, None])).tolist()
['under 18', '18–29', '18–29', '30–39', '80+', None]
"""

from __future__ import annotations

import pandas as pd
from scipy.stats import percentileofscore

from ..stats.derived import age_groups
from ..stats.shares import quartile_summary

__all__ = ["AGE_BANDS", "MIN_REFERENCE", "age_band", "latest_per_patient", "percentile", "reference_summary"]

#: A reference group needs at least this many patients with the score for a percentile or band.
MIN_REFERENCE = 20

#: Lower bounds of the age bands; the last is open (``80+``), below the first is ``under 18``.
AGE_BANDS = (18, 30, 40, 50, 60, 70, 80)


def age_band(age: pd.Series) -> pd.Series:
    """The age band of each age (object dtype, None where the age is missing)."""
    age = pd.Series(age)
    width = AGE_BANDS[2] - AGE_BANDS[1]  # 10 years; the first band runs from the floor
    bands = age_groups(age, width, floor=AGE_BANDS[0], below=f"under {AGE_BANDS[0]}")
    return pd.Series(bands.astype(object).where(bands.notna(), None).to_numpy(), index=age.index, dtype=object)


def latest_per_patient(rows: pd.DataFrame, date_column: str) -> pd.DataFrame:
    """One row per ``patient_id``: the one with the latest ``date_column`` (ties: the last in row order)."""
    ordered = rows.sort_values(date_column, kind="stable")
    return ordered.drop_duplicates("patient_id", keep="last")


def percentile(reference: pd.Series, value) -> float:
    """The mid-rank percentile of ``value`` in ``reference`` (module docstring); NaN when either is missing.

    >>> percentile(pd.Series([5, 5, 5, 5]), 5), percentile(pd.Series([1, 2]), 0)
    (50.0, 0.0)
    """
    ref = pd.to_numeric(pd.Series(reference), errors="coerce").dropna().to_numpy(dtype=float)
    if len(ref) == 0 or value is None or pd.isna(value):
        return float("nan")
    return float(percentileofscore(ref, float(value), kind="mean"))


def reference_summary(reference: pd.Series, value=None) -> dict:
    """n (patients with a score), shown (n ≥ :data:`MIN_REFERENCE`), percentile of ``value``,
    q1, median and q3 of ``reference``; percentile and quartiles NaN when not shown.

    >>> s = reference_summary(pd.Series(range(1, 21)), 15)
    >>> s["n"], s["shown"], s["percentile"], s["median"]
    (20, True, 72.5, 10.5)
    >>> reference_summary(pd.Series(range(19)), 3)["percentile"]
    nan
    """
    ref = pd.to_numeric(pd.Series(reference), errors="coerce").dropna()
    n = int(len(ref))
    shown = n >= MIN_REFERENCE
    q = quartile_summary(ref) if shown else {}
    return {
        "n": n,
        "shown": shown,
        "percentile": percentile(ref, value) if shown else float("nan"),
        "q1": q.get("q1", float("nan")),
        "median": q.get("median", float("nan")),
        "q3": q.get("q3", float("nan")),
    }
