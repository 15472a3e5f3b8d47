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

import numpy as np
import pandas as pd

TZ = "Europe/Oslo"
DATETIME_DTYPE = "datetime64[ns]"

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
    """Named regex groups of the first pattern that matches each cell."""
    out = None
    for pattern in patterns:
        parts = s.str.extract(pattern)
        out = parts if out is None else out.combine_first(parts)
    return out


def _assemble(parts: pd.DataFrame, index: pd.Index) -> pd.Series:
    cols = {"year": "y", "month": "m", "day": "d", "hour": "H", "minute": "M", "second": "S"}
    frame = pd.DataFrame(
        {k: pd.to_numeric(parts[v], errors="coerce") for k, v in cols.items() if v in parts},
        index=index,
    )
    for k in ("hour", "minute", "second"):
        if k in frame:
            frame[k] = frame[k].fillna(0)
    complete = frame.notna().all(axis=1) & frame["year"].between(1000, 2999)
    # to_datetime would roll 25:00 over into the next day; a clock time must be on the clock.
    for k, top in (("hour", 23), ("minute", 59), ("second", 59)):
        if k in frame:
            complete &= frame[k] <= top
    values = pd.Series(pd.NaT, index=index, dtype=DATETIME_DTYPE)
    if complete.any():
        # to_datetime turns impossible dates (30 February, hour 25) into NaT.
        values[complete] = pd.to_datetime(frame[complete].astype("int64"), errors="coerce").astype(DATETIME_DTYPE)
    return values


# Fast paths: a cell of exactly this shape is parsed with a fixed format in C
# (impossible dates become NaT); the few cells of other shapes take the general path.
_FAST_DATE = ((r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "%Y-%m-%d"), (r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}", "%d.%m.%Y"))
_FAST_DATETIME = ((r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}", "%Y-%m-%d %H:%M:%S"),)


def _fast_then_general(s: pd.Series, fast, general) -> pd.Series:
    values = pd.Series(pd.NaT, index=s.index, dtype=DATETIME_DTYPE)
    todo = (s != "").fillna(False).to_numpy(dtype=bool, copy=True)
    for shape, fmt in fast:
        hit = todo & s.str.fullmatch(shape).fillna(False).astype(bool).to_numpy()
        if hit.any():
            text = s[hit].str.replace("T", " ", regex=False)
            values[hit] = pd.to_datetime(text, format=fmt, errors="coerce").astype(DATETIME_DTYPE)
            todo &= ~hit
    if todo.any():
        values[todo] = general(s[todo])
    return values


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ``YYYY-MM-DD`` or ``DD.MM.YYYY`` to ``datetime64[ns]``."""
    values = _fast_then_general(
        s, _FAST_DATE, lambda rest: _assemble(_components(rest, [_ISO_DATE, _NO_DATE]), rest.index)
    )
    return values, (s != "") & values.isna()


def parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Datetimes to naive Europe/Oslo wall-clock time (``datetime64[ns]``).

    A value with an offset (``Z``, ``+02:00``) is converted to Europe/Oslo
    before the offset is dropped; a naive value is taken as Oslo time already.
    """
    values = _fast_then_general(s, _FAST_DATETIME, _general_datetime)
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


def parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``true/false``, ``1/0``, ``ja/nei`` in any case to nullable booleans."""
    low = s.str.lower()
    values = pd.Series(pd.NA, index=s.index, dtype="boolean")
    values[low.isin(_TRUE)] = True
    values[low.isin(_FALSE)] = False
    return values, (s != "") & values.isna()


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (an optional sign, digits) to ``Int64``."""
    ok = s.str.fullmatch(r"[+-]?[0-9]{1,18}")
    values = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if ok.any():
        values[ok] = s[ok].astype("int64")
    return values, (s != "") & ~ok


def parse_float(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers with ``.`` or ``,`` as decimal mark to ``Float64``."""
    ok = s.str.fullmatch(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)")
    values = pd.Series(pd.NA, index=s.index, dtype="Float64")
    if ok.any():
        values[ok] = s[ok].str.replace(",", ".", regex=False).astype("float64")
    return values, (s != "") & ~ok


def parse_text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text kept as a pandas string column; a blank becomes missing."""
    values = s.astype("string").mask(s == "")
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
