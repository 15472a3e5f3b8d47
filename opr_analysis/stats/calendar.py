"""Calendar arithmetic on datetime64[ns] arrays, vectorised (numpy), for rules over many dates.

Whole-day dates (the registry's) are handled once per calendar day in their range and looked up:
numpy's calendar casts over a million dates cost more than the lookup. Each function agrees with
pandas' own (``pd.DateOffset(months=n)``, ``Series.dt.year``); ``tests/test_stats_followup.py``
checks both paths against them.

>>> import numpy as np
>>> add_months(np.array(["2024-01-31", "NaT"], dtype="datetime64[ns]"), 1)
array(['2024-02-29T00:00:00.000000000',                           'NaT'],
      dtype='datetime64[ns]')
>>> calendar_years(np.array(["2023-12-31T23:59", "NaT"], dtype="datetime64[ns]")).tolist()
[2023, <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_NAT = np.datetime64("NaT", "ns")


def add_months(dates: np.ndarray, months: int) -> np.ndarray:
    """``dates`` + ``months`` calendar months, the day clipped to the month's last day (as pd.DateOffset)."""
    return shifted_months(dates, [months])[0]


def shifted_months(dates: np.ndarray, months: list[int]) -> list[np.ndarray]:
    """:func:`add_months` for several month counts.

    Whole-day dates (the registry's) are shifted once per calendar day in their range and looked up:
    numpy's calendar casts cost more than the lookup.
    """
    day_ns = 86_400 * 10**9
    dates = dates.astype("datetime64[ns]", copy=False)
    nat = np.isnat(dates)
    ns = dates.view(np.int64)[~nat]
    if len(ns) and not (ns % day_ns).any() and ns.max() // day_ns - ns.min() // day_ns < 100_000:
        first = ns.min() // day_ns
        days = np.arange(first, ns.max() // day_ns + 1).astype("datetime64[D]").astype("datetime64[ns]")
        at = np.where(nat, 0, dates.view(np.int64) // day_ns - first)
        return [np.where(nat, _NAT, table[at]) for table in _shifted_each(days, months)]
    return _shifted_each(dates, months)


def _shifted_each(dates: np.ndarray, months: list[int]) -> list[np.ndarray]:
    """:func:`add_months` for several month counts, date by date (split into month, day and time once)."""
    day = dates.astype("datetime64[D]")
    month = dates.astype("datetime64[M]")
    day_of_month = day - month.astype("datetime64[D]")
    time_of_day = dates - day.astype("datetime64[ns]")
    nat = np.isnat(dates)
    out = []
    for m in months:
        target = month + np.timedelta64(m, "M")
        last = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
        due = np.minimum(target.astype("datetime64[D]") + day_of_month, last)
        out.append(np.where(nat, _NAT, due.astype("datetime64[ns]") + time_of_day))  # keep the time of day
    return out


def calendar_years(dates: np.ndarray) -> pd.Series:
    """Calendar year of each date (Int64, NA for NaT)."""
    return pd.Series(pd.arrays.IntegerArray(year_numbers(dates), np.isnat(dates)))


def year_numbers(dates: np.ndarray) -> np.ndarray:
    """Calendar year of each datetime64[ns] (any number for NaT), looked up per day when the range is short."""
    day_ns = 86_400 * 10**9
    dates = dates.astype("datetime64[ns]", copy=False)
    nat = np.isnat(dates)
    if nat.all():
        return np.zeros(len(dates), dtype=np.int64)
    days = dates.view(np.int64) // day_ns
    first, last = days[~nat].min(), days[~nat].max()
    if last - first >= 100_000:
        return dates.astype("datetime64[Y]").astype(np.int64) + 1970
    table = np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return table[np.where(nat, 0, days - first)]
