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

_ISO_DATE = r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$"
_NO_DATE = r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"
_ISO_DATETIME = (
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<H>\d{2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?\s?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_NO_DATETIME = (
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})[T ](?P<H>\d{1,2})[:.](?P<M>\d{2})"
    r"(?:[:.](?P<S>\d{2}))?$"
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
    values = pd.Series(pd.NaT, index=index, dtype=DATETIME_DTYPE)
    if complete.any():
        # to_datetime turns impossible dates (30 February, hour 25) into NaT.
        values[complete] = pd.to_datetime(frame[complete].astype("int64"), errors="coerce").astype(DATETIME_DTYPE)
    return values


# Years 1800-2199 (well inside datetime64[ns]) and clock times 00:00:00-23:59:59 take the fast
# path; anything else takes the general one, so results are the same either way.
_FAST_YEAR = r"(?:1[89]|2[01])\d{2}"


def _fast_iso(s: pd.Series, shape: str, fmt: str, general) -> tuple[pd.Series, pd.Series]:
    """Cells of the plain ISO ``shape`` parsed in one ``to_datetime`` call; the rest by ``general``.

    The common case (every cell ISO, as the registry's exports are) then skips the
    per-cell regex group extraction, which dominates reading time at scale.
    """
    iso = s.str.fullmatch(shape).fillna(False).astype(bool)
    if not iso.any():
        return general(s)
    values = pd.Series(pd.NaT, index=s.index, dtype=DATETIME_DTYPE)
    parsed = pd.to_datetime(s[iso], format=fmt, errors="coerce").astype(DATETIME_DTYPE)
    values[iso] = parsed
    rest = ~iso & (s != "")
    if rest.any():
        values[rest] = general(s[rest])[0]
    return values, (s != "") & values.isna()


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ``YYYY-MM-DD`` or ``DD.MM.YYYY`` to ``datetime64[ns]``."""
    return _fast_iso(s, _FAST_YEAR + r"-\d{2}-\d{2}", "%Y-%m-%d", _parse_date)


def _parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = _components(s, [_ISO_DATE, _NO_DATE])
    values = _assemble(parts, s.index)
    return values, (s != "") & values.isna()


def parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Datetimes to naive Europe/Oslo wall-clock time (``datetime64[ns]``).

    A value with an offset (``Z``, ``+02:00``) is converted to Europe/Oslo
    before the offset is dropped; a naive value is taken as Oslo time already.
    """
    return _fast_iso(s, _FAST_YEAR + r"-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d", "%Y-%m-%dT%H:%M:%S", _parse_datetime)


def _parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    # A date alone (as Excel or Parquet write a midnight) is taken as 00:00.
    parts = _components(s, [_ISO_DATETIME, _NO_DATETIME, _ISO_DATE, _NO_DATE])
    values = _assemble(parts, s.index)
    if parts["f"].notna().any():
        frac = parts["f"].fillna("0").str.ljust(9, "0").str[:9].astype("int64")
        values = values + pd.to_timedelta(frac.to_numpy(), unit="ns")
    if parts["tz"].notna().any():
        values = _apply_offsets(values, parts["tz"])
    return values, (s != "") & values.isna()


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
    ok = s.str.fullmatch(r"[+-]?\d{1,18}")
    values = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if ok.any():
        values[ok] = s[ok].astype("int64")
    return values, (s != "") & ~ok


def parse_float(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal numbers with ``.`` or ``,`` as decimal mark to ``Float64``."""
    ok = s.str.fullmatch(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
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
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
    "date": parse_date,
    "datetime": parse_datetime,
}
