"""Reasons for the short version of the baseline (seed table 15)."""

from __future__ import annotations

import pandas as pd

from ..extract import codebook
from ..extract.needs import reads
from .shares import count_grid, year_range


@reads("short_forms")
def short_form_reasons(reg) -> pd.DataFrame:
    """Seed table 15: year, reason, n — every year × every reason code, zeros included.

    A blank reason is counted as ``annet``. Reasons are in codebook order.
    """
    codes = list(codebook.load().tables["short_forms"].columns["reason"].codes)
    s = reg.short_forms
    rows = pd.DataFrame(
        {
            "year": s["date"].dt.year.astype("int64"),
            "reason": s["reason"].astype(object).fillna("annet"),
            "n": 1,
        }
    )
    return count_grid(rows, {"year": year_range(rows["year"]), "reason": codes}, {"n": "n"})
