"""Quantities derived from the registry's dates: one derivation each, shared by the report and research extracts.

- **Age** is the event's calendar year minus the birth year (:func:`age_at`): the
  registry holds the birth year only, so age at an event is known to ±1 year
  and is computed the same way everywhere (the under-18 exclusion of the
  follow-up audit, the PROM profile, the models and the research extracts'
  ``age_at_enrolment``).
- **Waiting and follow-up times** are whole calendar days between two dates
  (:func:`days_between`), e.g. from the right to health care being granted to
  the first consultation (``days_to_first_consultation`` in research extracts).

Examples
--------
>>> import pandas as pd
>>> dates = pd.Series(pd.to_datetime(["2023-01-01", "2023-12-31", None]))
>>> age_at(dates, pd.Series([1990, 2005, 1970])).tolist()
[33.0, 18.0, <NA>]
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


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole days from ``earlier`` to ``later`` (Int64; negative when ``later`` is earlier; NA where missing)."""
    return (later - earlier).dt.days.astype("Int64")
