"""Vectorised parsers from extract text cells to typed pandas Series.

Every parser takes a Series of stripped strings (``""`` = blank) and returns
``(values, bad)``: the typed Series (missing where blank or unparseable) and a
boolean mask of non-blank cells that could not be parsed. The contract's
formats are accepted and nothing else, so a malformed cell is quarantined
instead of being guessed at.

Examples
--------
>>> import pandas as pd
>>> values, bad = parse_date(pd.Series(["2023-02-28", "28.02.2023", "30.02.2023", ""]))
>>> values.dt.strftime("%Y-%m-%d").tolist()[:2], bad.tolist()
(['2023-02-28', '2023-02-28'], [False, False, True, False])
>>> parse_bool(pd.Series(["Ja", "nei", "1", "", "kanskje"]))[0].tolist()
[True, False, True, <NA>, <NA>]
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd

TZ = "Europe/Oslo"
DATETIME_DTYPE = "datetime64[ns]"
# Years a datetime64[ns] holds in full; a cell outside them is a date that does not exist
# (it used to crash the run with OutOfBoundsDatetime instead of being quarantined).
YEAR_MIN, YEAR_MAX = 1678, 2261

_ISO_DATE = r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})$"
_NO_DATE = r"^(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})$"
_ISO_DATETIME = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})[T ](?P<H>[0-9]{2}):(?P<M>[0-9]{2})"
    r"(?::(?P<S>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?\s?(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_NO_DATETIME = (
    r"^(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})[T ](?P<H>[0-9]{1,2})[:.](?P<M>[0-9]{2})"
    r"(?:[:.](?P<S>[0-9]{2}))?$"
)
_TRUE = {"true", "1", "ja"}
_FALSE = {"false", "0", "nei"}

# What the user is told a column of each type should hold.
EXPECTED = {
    "int": "et heltall",
    "float": "et tall",
    "bool": "ja/nei, true/false eller 1/0",
    "date": "en dato som ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ",
    "datetime": "et tidspunkt som ÅÅÅÅ-MM-DDTTT:MM:SS eller DD.MM.ÅÅÅÅ TT:MM",
}


def _components(s: pd.Series, patterns: list[str]) -> pd.DataFrame:
    """Named regex groups of the first pattern that matches each cell (a group the pattern leaves
    blank is taken from the next pattern that fills it, as ``combine_first`` would; the columns are
    filled one by one, which on a few cells costs a tenth of ``combine_first``'s alignment)."""
    out: dict[str, pd.Series] = {}
    for pattern in patterns:
        parts = s.str.extract(pattern)
        for name in parts.columns:
            out[name] = parts[name] if name not in out else out[name].fillna(parts[name])
    return pd.DataFrame(out, index=s.index)


def _assemble(parts: pd.DataFrame, index: pd.Index) -> pd.Series:
    # The checks in numpy (float, NaN for a missing part; every part is at most four digits), the
    # calendar by to_datetime: on a few cells pandas' nullable columns cost most of the time.
    cols = {"year": "y", "month": "m", "day": "d", "hour": "H", "minute": "M", "second": "S"}
    frame = {
        k: pd.to_numeric(parts[v], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        for k, v in cols.items()
        if v in parts
    }
    for k in ("hour", "minute", "second"):
        if k in frame:
            frame[k] = np.where(np.isnan(frame[k]), 0.0, frame[k])
    year = frame["year"]
    complete = ~np.isnan(np.column_stack(list(frame.values()))).any(axis=1) & (year >= YEAR_MIN) & (year <= YEAR_MAX)
    # to_datetime would roll 25:00 over into the next day; a clock time must be on the clock.
    for k, top in (("hour", 23), ("minute", 59), ("second", 59)):
        if k in frame:
            complete &= frame[k] <= top
    values = np.full(len(index), np.datetime64("NaT"), dtype=DATETIME_DTYPE)
    if complete.any():
        # to_datetime turns impossible dates (30 February, hour 25) into NaT.
        whole = pd.DataFrame({k: v[complete].astype("int64") for k, v in frame.items()})
        values[complete] = pd.to_datetime(whole, errors="coerce").astype(DATETIME_DTYPE).to_numpy()
    return pd.Series(values, index=index, dtype=DATETIME_DTYPE)


# Fast paths: a cell of one of these fixed-width shapes is parsed by numpy alone on its UTF-8
# bytes (a shape is one byte class per position: digits sliced by position, the calendar checked
# arithmetically): no per-cell Python. Each shape is written with ``9`` for a digit, ``_`` for
# ``T`` or a space, and any other character for itself; its layout lists where the year, month,
# day, hour, minute and second digits stand. Any other cell (one-digit day, ``.`` in the clock,
# fractions, offsets, junk) takes the general path, which gives the same answer for a cell both
# could read (tests/test_parsing.py).
_YMD = {"y": (0, 4), "m": (5, 7), "d": (8, 10)}
_DMY = {"d": (0, 2), "m": (3, 5), "y": (6, 10)}
_HM, _HMS = {"H": (11, 13), "M": (14, 16)}, {"H": (11, 13), "M": (14, 16), "S": (17, 19)}
_ISO, _NO = "9999-99-99", "99.99.9999"
_FAST_DATE = ((_ISO, _YMD), (_NO, _DMY))
_FAST_DATETIME = (
    (_ISO + "_99:99:99", {**_YMD, **_HMS}),
    (_NO + "_99:99:99", {**_DMY, **_HMS}),
    (_ISO + "_99:99", {**_YMD, **_HM}),
    (_NO + "_99:99", {**_DMY, **_HM}),
    *_FAST_DATE,  # a date alone in a datetime column is midnight, as on the general path
)


_FAST_ON = [True]


@contextmanager
def general_path_only():
    """Within the block every date/datetime cell takes the general path (to test that both agree)."""
    _FAST_ON[0] = False
    try:
        yield
    finally:
        _FAST_ON[0] = True


def _arrow(s: pd.Series):
    """The Series' strings as an Arrow array (zero-copy when they are Arrow strings already)."""
    import pyarrow as pa

    try:
        return pa.array(s.array)
    except (TypeError, pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(s.astype(object).to_numpy(), type=pa.large_string(), from_pandas=True)


def _byte_matrix(text, width: int) -> np.ndarray:
    """The UTF-8 bytes of cells that are all ``width`` bytes long, one row per cell (uint8)."""
    import pyarrow as pa

    text = pa.chunked_array([text]) if isinstance(text, pa.Array) else text
    text = text.cast(pa.large_binary()).combine_chunks()
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64, count=len(text) + 1, offset=8 * text.offset)
    if not len(text):
        return np.zeros((0, width), dtype=np.uint8)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(text), width)


def _shape_matches(cells: np.ndarray, shape: str) -> np.ndarray:
    """Which rows of a byte matrix are in ``shape`` (``9`` a digit, ``_`` ``T`` or a space)."""
    ok = np.ones(len(cells), dtype=bool)
    for i, char in enumerate(shape):
        byte = cells[:, i]
        if char == "9":
            ok &= (byte - np.uint8(48)) < 10  # uint8 wraps: only b"0"-b"9" land below 10
        elif char == "_":
            ok &= (byte == ord("T")) | (byte == ord(" "))
        else:
            ok &= byte == ord(char)
    return ok


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _fixed_width(cells: np.ndarray, layout: dict) -> np.ndarray:
    """``datetime64[ns]`` from byte rows of one fixed-width shape; NaT where the calendar or clock says no.

    The rules are the general path's: year YEAR_MIN-YEAR_MAX, a day that exists in its month,
    hour <= 23, minute and second <= 59. Days since 1970 by the proleptic Gregorian calendar's
    arithmetic (H. Hinnant's days_from_civil), all in int64.
    """

    def part(key):
        if key not in layout:
            return np.zeros(len(cells), dtype=np.int64)
        start, stop = layout[key]
        value = np.zeros(len(cells), dtype=np.int64)
        for i in range(start, stop):
            value = value * 10 + (cells[:, i] - np.uint8(48))
        return value

    y, m, d, hh, mm, ss = (part(k) for k in ("y", "m", "d", "H", "M", "S"))
    month_ok = (m >= 1) & (m <= 12)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.where(month_ok, m, 0)] + (leap & (m == 2))
    ok = (y >= YEAR_MIN) & (y <= YEAR_MAX) & month_ok & (d >= 1) & (d <= days_in_month)
    ok &= (hh <= 23) & (mm <= 59) & (ss <= 59)
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    nanos = (days * 86400 + hh * 3600 + mm * 60 + ss) * 1_000_000_000
    nanos[~ok] = np.iinfo(np.int64).min  # NaT
    return nanos.view("datetime64[ns]")


def _fast_then_general(s: pd.Series, fast, general) -> pd.Series:
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(s), np.datetime64("NaT"), dtype=DATETIME_DTYPE)
    text = _arrow(s)
    lengths = pc.fill_null(pc.binary_length(text.cast(pa.large_binary())), -1).to_numpy(zero_copy_only=False)
    todo = lengths > 0  # neither blank nor missing
    if _FAST_ON[0] and todo.any():
        for shape, layout in fast:
            rows = np.flatnonzero(todo & (lengths == len(shape)))
            if not len(rows):  # a column is nearly always in one shape: most shapes find no cell
                continue
            cells = _byte_matrix(text if len(rows) == len(s) else text.take(rows), len(shape))
            matched = _shape_matches(cells, shape)
            if matched.any():
                hit = rows[matched]
                out[hit] = _fixed_width(cells[matched], layout)
                todo[hit] = False
    values = pd.Series(out, index=s.index, dtype=DATETIME_DTYPE)
    if todo.any():
        values[todo] = general(s[todo])
    return values


# Below this many cells a column is parsed as it is (tests/test_parsing_paths.py runs both ways).
SMALL = 1_000


def _once_per_distinct(s: pd.Series, parse) -> pd.Series:
    """``parse(s)`` computed once per distinct cell (a date column holds a few thousand dates in a
    million rows) and spread back by Arrow's dictionary encoding; each cell's value depends on
    that cell alone, so the answer is the same."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(s) < SMALL:  # finding the distinct cells costs more than parsing a few hundred
        return parse(s)
    text = _arrow(s)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    head = min(len(text), 10_000)
    if 2 * len(pc.unique(text.slice(0, head))) > head:  # mostly distinct (times to the second): parse as is
        return parse(s)
    encoded = pc.dictionary_encode(text)
    if 2 * len(encoded.dictionary) > len(s):
        return parse(s)
    distinct = parse(pd.Series(pd.arrays.ArrowStringArray(encoded.dictionary.cast(pa.large_string()))))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    found = np.append(distinct.to_numpy(dtype=DATETIME_DTYPE), np.datetime64("NaT"))
    return pd.Series(found[codes], index=s.index, dtype=DATETIME_DTYPE)


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ``YYYY-MM-DD`` or ``DD.MM.YYYY`` to ``datetime64[ns]``."""
    values = _once_per_distinct(
        s,
        lambda u: _fast_then_general(
            u, _FAST_DATE, lambda rest: _assemble(_components(rest, [_ISO_DATE, _NO_DATE]), rest.index)
        ),
    )
    return values, (s != "") & values.isna()


def parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Datetimes to naive Europe/Oslo wall-clock time (``datetime64[ns]``).

    A value with an offset (``Z``, ``+02:00``) is converted to Europe/Oslo
    before the offset is dropped; a naive value is taken as Oslo time already.
    """
    values = _once_per_distinct(s, lambda u: _fast_then_general(u, _FAST_DATETIME, _general_datetime))
    return values, (s != "") & values.isna()


def _general_datetime(s: pd.Series) -> pd.Series:
    # A date alone (as Excel or Parquet write a midnight) is taken as 00:00.
    parts = _components(s, [_ISO_DATETIME, _NO_DATETIME, _ISO_DATE, _NO_DATE])
    values = _assemble(parts, s.index)
    if parts["f"].notna().any():
        frac = parts["f"].fillna("0").str.ljust(9, "0").str[:9].astype("int64")
        values = values + pd.to_timedelta(frac.to_numpy(), unit="ns")
    if parts["tz"].notna().any():
        values = _apply_offsets(values, parts["tz"])
    return values


def _apply_offsets(values: pd.Series, tz: pd.Series) -> pd.Series:
    has = tz.notna()
    text = tz[has].str.replace("Z", "+00:00", regex=False).str.replace(":", "", regex=False)
    sign = np.where(text.str[0] == "-", -1, 1)
    hours = text.str[1:3].astype(int)
    minutes = text.str[3:5].replace("", "0").astype(int)
    offset = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")
    utc = (values[has] - offset.to_numpy()).dt.tz_localize("UTC")
    local = utc.dt.tz_convert(TZ).dt.tz_localize(None).astype(DATETIME_DTYPE)
    out = values.copy()
    out[has] = local
    return out


# The numeric and yes/no parsers build their nullable arrays from numpy values and a mask: setting values
# through a boolean mask on a Series of pd.NA cost more than the parsing (about 0.5-0.8 ms a column). The
# values under the mask are those pandas gives a column of pd.NA (1, NaN, False), so the arrays are the same.


def parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``true/false``, ``1/0``, ``ja/nei`` in any case to nullable booleans."""
    low = s.str.lower()
    true = low.isin(_TRUE).to_numpy(dtype=bool)
    false = low.isin(_FALSE).to_numpy(dtype=bool)
    values = pd.Series(pd.arrays.BooleanArray(true, ~(true | false)), index=s.index)
    return values, (s != "") & values.isna()


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (an optional sign, digits) to ``Int64``."""
    ok = s.str.fullmatch(r"[+-]?[0-9]{1,18}")
    parsed = ok.to_numpy(dtype=bool, na_value=False)
    data = np.ones(len(s), dtype="int64")
    if parsed.any():
        data[parsed] = s[parsed].astype("int64").to_numpy()
    return pd.Series(pd.arrays.IntegerArray(data, ~parsed), index=s.index), (s != "") & ~ok


def parse_float(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers with ``.`` or ``,`` as decimal mark to ``Float64``."""
    ok = s.str.fullmatch(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)")
    parsed = ok.to_numpy(dtype=bool, na_value=False)
    data = np.full(len(s), np.nan)
    if parsed.any():
        data[parsed] = s[parsed].str.replace(",", ".", regex=False).astype("float64").to_numpy()
    return pd.Series(pd.arrays.FloatingArray(data, ~parsed), index=s.index), (s != "") & ~ok


def parse_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text kept as a pandas string column; a blank becomes missing."""
    import pyarrow.compute as pc

    values = s.astype("string")
    # Asked of Arrow first: most text columns have no blank, and pandas' comparison costs 0.15 ms a column.
    if pc.any(pc.equal(_arrow(values), "")).as_py():  # otherwise the column is kept as it is (no copy)
        values = values.mask(values == "")
    return values, pd.Series(False, index=s.index)


PARSERS = {
    "id": parse_text,
    "string": parse_text,
    "text": parse_text,
    "code": parse_text,
    "item": parse_text,
    "orgnr": parse_text,  # checked by its schema (python-stdnum)
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
    "date": parse_date,
    "datetime": parse_datetime,
}
