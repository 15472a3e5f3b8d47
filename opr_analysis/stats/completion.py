"""Completion time of the baseline questionnaire (seed table 14).

Quartiles by :func:`.shares.quartile_summary` (linear interpolation, R's type 7). H:M:S is
truncated to whole seconds, never rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract.needs import reads
from ..formatting import format_hms
from .shares import _as_float, quartile_summary, year_range

STAT_COLUMNS = ("min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms")


def _summary(period: str, ms: pd.Series) -> dict:
    q = quartile_summary(ms)
    return {"period": period, "n": q["n"], **{f"{k}_ms": q[k] for k in ("min", "q1", "median", "q3", "max")}}


@reads("baseline_responses")
def completion_time(reg) -> pd.DataFrame:
    """Seed table 14: period (year, or ``alle``), n, min_ms, q1_ms, median_ms, q3_ms, max_ms,
    then the same five as ``*_hms`` (``HH:MM:SS``, truncated).

    Years run over the years of ``submitted_at``; a year without responses has n = 0.
    """
    r = reg.baseline_responses
    years = r["submitted_at"].dt.year.to_numpy(dtype="float64", na_value=np.nan)
    ms = _as_float(r["duration_ms"])  # once, not per year
    rows = [_summary(str(y), ms[years == y]) for y in year_range(pd.Series(years))]
    rows.append(_summary("alle", ms))
    out = pd.DataFrame(rows)
    for col in STAT_COLUMNS:
        out[col.replace("_ms", "_hms")] = out[col].map(lambda ms: format_hms(ms, missing=None)).astype("string")
    return out
