"""Column values of the synthetic files: running ids, day numbers and seconds as dates.

Shared by :mod:`.registry` and the registers drawn beside it (:mod:`.implants`), which
must not import the module that calls them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["dates", "ids", "stamps"]


def ids(prefix: str, n: int) -> np.ndarray:
    """``prefix`` + 7-digit running number: P0000001, ... (never 11 digits)."""
    nums = pd.Series(np.arange(1, n + 1, dtype=np.int64)).astype(str).str.zfill(7)
    return (prefix + nums).to_numpy(dtype=object)


def dates(days: np.ndarray) -> pd.Series:
    """Int day numbers (NaN/-1 = blank) to a ``datetime64[s]`` series."""
    days = np.asarray(days, dtype=np.float64)
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(days)
    out[ok] = days[ok].astype(np.int64).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out)


def stamps(seconds: np.ndarray) -> pd.Series:
    """Seconds since epoch (NaN = blank) to a ``datetime64[s]`` series."""
    seconds = np.asarray(seconds, dtype=np.float64)
    out = np.full(seconds.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(seconds)
    out[ok] = seconds[ok].astype(np.int64).astype("datetime64[s]")
    return pd.Series(out)
