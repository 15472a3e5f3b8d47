"""Derived frames computed once per registry: :func:`shared`.

Several published tables start from the same row-level frame (baseline links,
assessed referrals) or from another published table (the trend tests refit
the rejection and patient-level baseline tables). :func:`shared` keeps each
on the registry while the source tables it was computed from are the same
objects, so ``opr tables`` touches each table's rows once per derived frame;
a caller that replaces a table (tests do) gets a fresh computation. Callers
get a copy (of each item, for a tuple of arrays), so nothing they do reaches the cache.
"""

from __future__ import annotations

import pandas as pd


def shared(reg, name: str, tables: tuple[str, ...], compute):
    """``compute(reg)``, kept on ``reg`` while its ``tables`` are the same frames."""
    if not isinstance(getattr(reg, "tables", None), dict):  # a stand-in registry: no cache
        return compute(reg)
    frames = tuple(reg.tables.get(t) for t in tables)
    cache = getattr(reg, "__dict__", {}).setdefault("_stats_memo", {})
    hit = cache.get(name)
    if hit is None or len(hit[0]) != len(frames) or any(a is not b for a, b in zip(hit[0], frames)):
        hit = cache[name] = (frames, compute(reg))
    return tuple(v.copy() for v in hit[1]) if isinstance(hit[1], tuple) else hit[1].copy()


def year_of(reg, table: str, column: str) -> pd.Series:
    """Calendar year of each row's ``column`` in ``table`` (int64, indexed like the table), computed
    once per registry: several tables count the same rows by the same year. A missing date raises,
    as ``.dt.year.astype("int64")`` does."""
    return shared(reg, f"year:{table}.{column}", (table,), lambda reg: years(getattr(reg, table)[column]))


def years(dates: pd.Series) -> pd.Series:
    """``dates.dt.year.astype("int64")`` for dates, ``astype("int64")`` for an integer year column."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        return dates.dt.year.astype("int64")
    return dates.astype("int64")
