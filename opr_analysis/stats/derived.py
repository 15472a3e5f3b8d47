"""Quantities derived from the registry's dates: one derivation each, shared by the report and research extracts.

- **Age** is the event's calendar year minus the birth year (:func:`age_at`): the
  registry holds the birth year only, so age at an event is known to ±1 year
  and is computed the same way everywhere (the under-18 exclusion of the
  follow-up audit, the PROM profile, the models and the research extracts'
  ``age_at_enrolment``).
- **Age groups** are bands of whole years (:func:`age_groups`): ``"20–24"`` …
  up to ``"80+"``, the first band starting at a minimum age when one is given.
  One rule for every output: the research extracts' ``age_band`` and the
  report's breakdowns by age (``referrals_by_sex_age``).
- **Waiting and follow-up times** are whole calendar days between two dates
  (:func:`days_between`), e.g. from the right to health care being granted to
  the first consultation (``days_to_first_consultation`` in research extracts).

Examples
--------
>>> import pandas as pd
>>> dates = pd.Series(pd.to_datetime(["2023-01-01", "2023-12-31", None]))
>>> age_at(dates, pd.Series([1990, 2005, 1970])).tolist()
[33.0, 18.0, <NA>]
>>> age_groups(pd.Series([16, 18, 29, 30, 85, None]), 10, floor=18, below="0–17").tolist()
['0–17', '18–29', '18–29', '30–39', '80+', nan]
>>> days_between(dates, pd.Series(pd.to_datetime(["2022-12-01", "2023-12-31", "2023-01-01"]))).tolist()
[31, 0, <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def age_at(dates: pd.Series, birth_year) -> pd.Series:
    """Age at each date, by birth year: ``date.year - birth_year`` (Float64; NA where either is missing).

    ``birth_year`` is matched by position (an array or a Series of the same length).
    """
    years = dates.dt.year.to_numpy(dtype=float, na_value=np.nan)
    births = pd.Series(birth_year).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(pd.array(years - births, dtype="Float64"), index=dates.index)


#: Ages from here are one group ("80+") at every width.
AGE_TOP = 80


def age_groups(age: pd.Series, width: int, floor: int = 0, below: str | None = None) -> pd.Series:
    """Age groups of ``width`` years (``"20–24"``), ``"80+"`` from :data:`AGE_TOP`, as an ordered Categorical.

    With ``floor`` (a minimum age) the first group starts there and absorbs a
    remainder shorter than half a group, so that adults do not get a tiny
    ``18–19`` group. Ages under ``floor`` fall in the first group, or, with
    ``below``, in a group of their own with that label (before the others).
    A missing age is NaN.

    >>> age_groups(pd.Series([19, 24, 25, 91, None], dtype="Int64"), 5).tolist()
    ['15–19', '20–24', '25–29', '80+', nan]
    >>> age_groups(pd.Series([18, 29, 30], dtype="Int64"), 10, floor=18).tolist()
    ['18–29', '18–29', '30–39']
    """
    cuts = [floor] + [m for m in range(0, AGE_TOP, width) if m > floor and 2 * (m - floor) >= width]
    labels = [f"{lo}–{hi - 1}" for lo, hi in zip(cuts, [*cuts[1:], AGE_TOP], strict=True)] + [f"{AGE_TOP}+"]
    a = pd.to_numeric(age, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    idx = np.searchsorted(np.array([*cuts[1:], AGE_TOP], dtype=float), np.nan_to_num(a, nan=0), side="right")
    if below is not None:
        labels = [below, *labels]
        idx = np.where(a < floor, 0, idx + 1)
    idx = np.where(np.isnan(a), -1, idx).astype(int)
    return pd.Series(pd.Categorical.from_codes(idx, categories=labels, ordered=True), index=age.index)


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole days from ``earlier`` to ``later`` (Int64; negative when ``later`` is earlier; NA where missing)."""
    return (later - earlier).dt.days.astype("Int64")
