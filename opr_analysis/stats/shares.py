"""Shares (proportions) with 95 % Wilson confidence limits, and year grids.

An indicator is a per-row numerator/denominator flag; :func:`aggregate_share`
is the one function that sums the flags per group and adds the share and its
confidence limits. A 0/0 group gives NA (a blank cell in CSV).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"year": [2021, 2021, 2023], "rejected": [1, 0, 1], "assessed": [1, 1, 1]})
>>> out = aggregate_share(rows, ["year"], "rejected", "assessed", "rejected_share",
...                       grid={"year": year_range(rows["year"])})
>>> out[["year", "assessed", "rejected", "rejected_share"]].to_dict("list")
{'year': [2021, 2022, 2023], 'assessed': [2, 0, 1], 'rejected': [1, 0, 1], 'rejected_share': [0.5, nan, 1.0]}
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

ALPHA = 0.05  # 95 % confidence limits


def wilson_interval(successes, trials) -> tuple[np.ndarray, np.ndarray]:
    """95 % Wilson limits (statsmodels) for each pair; NaN where 0/0, NA or successes > trials.

    >>> low, high = wilson_interval([3], [10])
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.1078, 0.6032)
    """
    k = pd.to_numeric(pd.Series(successes), errors="coerce").astype("float64").to_numpy()
    n = pd.to_numeric(pd.Series(trials), errors="coerce").astype("float64").to_numpy()
    ok = ~np.isnan(k) & ~np.isnan(n) & (n > 0) & (k >= 0) & (k <= n)
    low = np.full(len(k), np.nan)
    high = np.full(len(k), np.nan)
    if ok.any():
        # imported here: statsmodels loads scipy.stats (~1 s), which count_grid and the
        # quartiles never need (`opr followups` computes no limits)
        from statsmodels.stats.proportion import proportion_confint

        low[ok], high[ok] = proportion_confint(k[ok], n[ok], alpha=ALPHA, method="wilson")
    return low, high


def add_share(frame: pd.DataFrame, name: str, numerator: str, denominator: str, ci: bool = True) -> pd.DataFrame:
    """Append ``name`` = numerator / denominator (NaN for 0/0) and its Wilson limits.

    The limits are left blank where the ratio is not a proportion (numerator
    larger than denominator, as in the seed's forms-per-enrolment rate).
    """
    k = pd.to_numeric(frame[numerator]).astype("Float64")
    n = pd.to_numeric(frame[denominator]).astype("Float64")
    share = (k / n.where(n != 0)).astype("float64")
    out = frame.assign(**{name: share})
    if ci:
        low, high = wilson_interval(k, n)
        out[f"{name}_ci_low"] = low
        out[f"{name}_ci_high"] = high
    return out


def quartile_summary(values) -> dict[str, float]:
    """n, min, q1, median, q3 and max of the non-missing ``values``: the house rule for quartiles.

    Quartiles by linear interpolation (pandas' default, R's type 7), as in seed table 14.
    Empty input gives n = 0 and NaN for the rest.

    >>> quartile_summary([1, 2, 3, 4, None])
    {'n': 4, 'min': 1.0, 'q1': 1.75, 'median': 2.5, 'q3': 3.25, 'max': 4.0}
    """
    x = _as_float(values).dropna()
    if x.empty:
        return {"n": 0, **dict.fromkeys(("min", "q1", "median", "q3", "max"), float("nan"))}
    q = x.quantile([0.25, 0.5, 0.75])  # linear interpolation
    values = (x.min(), q[0.25], q[0.5], q[0.75], x.max())
    return {"n": int(len(x)), **dict(zip(("min", "q1", "median", "q3", "max"), map(float, values), strict=True))}


def _as_float(values) -> pd.Series:
    """``values`` as float64 with NaN for anything blank or not a number. A numeric Series is
    converted directly (the same numbers as through text, without a Python object per row)."""
    if isinstance(values, pd.Series) and values.dtype.kind in "iuf" and not pd.api.types.is_bool_dtype(values):
        return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan))
    return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").astype("float64")


def year_range(*years: pd.Series) -> list[int]:
    """Every year from the first to the last year present in the given series."""
    ends = [_ends(pd.Series(y)) for y in years]
    ends = [e for e in ends if e is not None]
    if not ends:
        return []
    return list(range(int(min(e[0] for e in ends)), int(max(e[1] for e in ends)) + 1))


def _ends(y: pd.Series) -> tuple[float, float] | None:
    """(first, last) year in ``y`` ignoring blanks; None when there is none."""
    if isinstance(y.dtype, np.dtype) and y.dtype.kind in "iuf":
        v = y.to_numpy()
        v = v[~np.isnan(v)] if v.dtype.kind == "f" else v
        return (v.min(), v.max()) if len(v) else None
    present = pd.Series(y, dtype="Float64").dropna()
    return None if present.empty else (present.min(), present.max())


def full_grid(grid: dict[str, list]) -> pd.Index:
    """Every combination of the given keys, in the given order (rows for zeros too)."""
    names = list(grid)
    if len(names) == 1:
        return pd.Index(list(grid[names[0]]), name=names[0], dtype=object)
    return pd.MultiIndex.from_tuples(list(itertools.product(*grid.values())), names=names)


def count_grid(rows: pd.DataFrame, grid: dict[str, list], sums: dict[str, str]) -> pd.DataFrame:
    """Sum row flags per group over a complete grid; absent groups give 0.

    ``sums`` maps output column -> row column to add up.
    """
    index = full_grid(grid)
    keys = list(grid)
    fast = None if rows.empty else _grid_sums(rows, grid, sums)
    if rows.empty:
        counts = pd.DataFrame(0, index=index, columns=list(sums))
    elif fast is not None:
        counts = pd.DataFrame(fast, index=index, columns=list(sums))
    else:
        # Text and category keys as objects (so they match the grid's); integer keys (years) as they are.
        keyed = rows.assign(**{k: rows[k].astype(object) for k in keys if not pd.api.types.is_integer_dtype(rows[k])})
        counts = (
            keyed.groupby(keys, observed=True, dropna=True)[[c for c in sums.values()]]
            .sum()
            .set_axis(list(sums), axis=1)
            .reindex(index, fill_value=0)
        )
    counts = counts.astype("int64").reset_index()
    if "year" in counts:
        counts["year"] = counts["year"].astype("int64")
    return counts


def _grid_positions(values: pd.Series, levels: list) -> np.ndarray | None:
    """Position of each value in ``levels`` (-1 where absent or NA), matched as :func:`count_grid`'s
    group-by matches them; None when ``levels`` has repeats (the group-by path handles those)."""
    integer = pd.api.types.is_integer_dtype(values)
    target = pd.Index(levels, dtype="int64" if integer and _all_int(levels) else object)
    if not target.is_unique or target.hasnans:  # a blank level: the group-by never matches it
        return None
    if isinstance(values.dtype, pd.CategoricalDtype):
        # match the (few) categories, then read each row's position through its category code
        at = np.append(target.get_indexer(values.cat.categories.astype(object)), -1)
        return at[values.cat.codes.to_numpy()]  # code -1 (NA) reads the appended -1
    if integer and target.dtype == "int64":
        if isinstance(values.dtype, np.dtype) and len(target) and _consecutive(target):
            # a year grid: the position is the distance from its first year
            pos = values.to_numpy().astype("int64")
            pos -= int(target[0])
            if len(pos) and (pos.min() < 0 or pos.max() >= len(target)):
                pos[(pos < 0) | (pos >= len(target))] = -1
            return pos
        return target.get_indexer(values)
    return target.get_indexer(values.astype(object))


def _consecutive(target: pd.Index) -> bool:
    return bool(np.array_equal(target.to_numpy(), np.arange(target[0], target[0] + len(target))))


def _all_int(levels: list) -> bool:
    return all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in levels)


def _grid_sums(rows: pd.DataFrame, grid: dict[str, list], sums: dict[str, str]) -> np.ndarray | None:
    """The sums of :func:`count_grid` without a group-by: each row's cell in the grid by position,
    then one ``bincount`` per column. None when a column is not plain integers or booleans (the
    group-by path's NA and float rules then apply). Few temporaries: at scale 100 every fresh
    row-length array costs page faults."""
    columns = [rows[c] for c in sums.values()]
    if not all(isinstance(c.dtype, np.dtype) and c.dtype.kind in "iub" for c in columns):
        return None
    shape = tuple(len(v) for v in grid.values())
    cells = int(np.prod(shape, dtype="int64"))
    flat = None
    outside = False  # some row's key is not in the grid (or NA): it is counted in a last cell, dropped
    for key, size in zip(grid, shape, strict=True):
        pos = _grid_positions(rows[key], list(grid[key]))
        if pos is None:
            return None
        if len(pos) and pos.min() < 0:
            outside = outside | (pos < 0)
        if flat is None:
            flat = pos
        else:
            flat *= size
            flat += pos
    if outside is not False:
        flat[outside] = cells
    out = np.zeros((cells, len(columns)), dtype="int64")
    for j, col in enumerate(columns):
        values = col.to_numpy()
        if values.dtype.kind == "b":
            out[:, j] = np.bincount(flat[values], minlength=cells + 1)[:cells]
            continue
        if not len(values):
            continue
        low, high = int(values.min()), int(values.max())
        if low == high:  # a constant column (the ones that count rows)
            out[:, j] = np.bincount(flat, minlength=cells + 1)[:cells] * low
            continue
        if max(abs(low), abs(high)) * len(values) >= 2**53:  # a float sum could round
            return None
        out[:, j] = np.bincount(flat, weights=values.astype("float64"), minlength=cells + 1)[:cells].astype("int64")
    return out


def aggregate_share(
    rows: pd.DataFrame,
    by: list[str],
    numerator: str,
    denominator: str,
    name: str,
    grid: dict[str, list],
) -> pd.DataFrame:
    """Sum per-row numerator/denominator flags per group and add the share with Wilson limits.

    Columns: the ``by`` keys, ``denominator``, ``numerator``, ``name``,
    ``name_ci_low``, ``name_ci_high``. Every combination in ``grid`` gets a row.
    """
    assert list(grid) == list(by), "grid keys must be the group keys, in order"
    counts = count_grid(rows, grid, {denominator: denominator, numerator: numerator})
    return add_share(counts, name, numerator, denominator)
