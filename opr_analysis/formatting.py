"""Norwegian number formatting for the report: ``1 574``, ``39,3 %``, ``00:31:29``, ``27,9–32,1 %``.

One convention, used in tables, figures and prose alike, taken from the
Norwegian Bokmål locale (``nb_NO``) through babel: the decimal mark is a comma,
thousands are grouped with U+00A0 NO-BREAK SPACE (:data:`NBSP`), negative
numbers get the typographic minus, and a percent sign follows the number after
a NO-BREAK SPACE, so that a number never breaks across lines. Rounding is half
to even on the float's exact binary value (as Python's own formatting).
Missing values (None, NaN, pandas NA) format as :data:`MISSING` (an en dash).
Confidence intervals are written ``low–high`` with the unit once at the end
(:func:`fmt_interval`, :func:`fmt_pct_interval`) and labelled :data:`CI_LABEL`.
Machine-readable CSV output never uses these functions: it keeps ``.`` and
fractions 0–1.

Examples
--------
>>> fmt_int(1574) == "1\\u00a0574"
True
>>> fmt_pct(0.393).replace(NBSP, " ")
'39,3 %'
>>> fmt_num(1234.5, 2).replace(NBSP, " ")
'1 234,50'
>>> format_hms(16_085_636)
'04:28:05'
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
from babel.numbers import format_decimal, get_minus_sign_symbol

LOCALE = "nb_NO"
NBSP = "\u00a0"
MISSING = "–"
MINUS = get_minus_sign_symbol(LOCALE)  # U+2212
CI_LABEL = f"95{NBSP}% KI"

__all__ = [
    "CI_LABEL", "LOCALE", "MISSING", "NBSP", "fmt_int", "fmt_interval", "fmt_num", "fmt_p", "fmt_pct",
    "fmt_pct_interval", "fmt_trend", "format_hms", "is_missing",
]  # fmt: skip


def is_missing(value) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_num(value, decimals: int = 1) -> str:
    """A number with ``decimals`` decimals, decimal comma and no-break-space thousands.

    >>> fmt_num(-0.25, 1)  # a typographic minus sign (U+2212), as Norwegian typesetting wants
    '−0,2'
    >>> fmt_num(None)
    '–'
    """
    if is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    # Decimal(float) is the exact binary value, so rounding matches Python's f"{x:.1f}".
    text = format_decimal(Decimal(float(value)), format=pattern, locale=LOCALE).replace("-", MINUS)
    if text.startswith(MINUS) and not any(ch in "123456789" for ch in text):
        text = text[1:]  # no "−0,0"
    return text


def fmt_int(value) -> str:
    """A whole number with no-break-space thousands separators.

    >>> fmt_int(2299).replace(NBSP, " ")
    '2 299'
    >>> fmt_int(float("nan"))
    '–'
    """
    if is_missing(value):
        return MISSING
    return format_decimal(int(value), format="#,##0", locale=LOCALE).replace("-", MINUS)


def fmt_pct(fraction, decimals: int = 1) -> str:
    """A fraction 0–1 as a Norwegian percentage: ``0.393`` -> ``39,3 %`` (no-break space).

    >>> fmt_pct(0.3).replace(NBSP, " ")
    '30,0 %'
    >>> fmt_pct(pd.NA)
    '–'
    """
    if is_missing(fraction):
        return MISSING
    return f"{fmt_num(100 * float(fraction), decimals)}{NBSP}%"


def fmt_interval(low, high, decimals: int = 1) -> str:
    """An interval ``low–high`` (en dash, no spaces), or ``low til high`` when a limit is negative
    (an en dash beside a minus sign misleads); :data:`MISSING` when a limit is missing.

    >>> fmt_interval(1.391, 1.672, 2)
    '1,39–1,67'
    >>> fmt_interval(-0.5, 0.25, 2)
    '−0,50 til 0,25'
    >>> fmt_interval(None, 2)
    '–'
    """
    if is_missing(low) or is_missing(high):
        return MISSING
    sep = " til " if min(float(low), float(high)) < 0 else "–"
    return f"{fmt_num(low, decimals)}{sep}{fmt_num(high, decimals)}"


def fmt_pct_interval(low, high, decimals: int = 1) -> str:
    """Limits of a share (fractions 0–1) as ``27,9–32,1 %``: the percent sign once, after the upper limit.

    >>> fmt_pct_interval(0.279, 0.321).replace(NBSP, " ")
    '27,9–32,1 %'
    >>> fmt_pct_interval(0.2, float("nan"))
    '–'
    """
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{fmt_num(100 * float(low), decimals)}–{fmt_pct(high, decimals)}"


def format_hms(ms, missing: str | None = MISSING) -> str | None:
    """Milliseconds as ``HH:MM:SS``, truncated to whole seconds (as the seed report).

    Hours are not wrapped at 24. ``16 085 636`` ms is 4 h 28 min 5,636 s:

    >>> format_hms(16_085_636)
    '04:28:05'
    >>> format_hms(446_387)
    '00:07:26'
    """
    if is_missing(ms):
        return missing
    seconds = math.floor(float(ms) / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def fmt_p(p) -> str:
    """A p-value as Norwegian text: ``p = 0,034``, ``p < 0,001``.

    >>> fmt_p(0.0342), fmt_p(2e-40), fmt_p(float("nan"))
    ('p = 0,034', 'p < 0,001', '–')
    """
    if is_missing(p):
        return MISSING
    return "p < 0,001" if p < 0.001 else f"p = {fmt_num(p, 3)}"


def fmt_trend(row) -> str:
    """A trend test row (``opr_analysis.trend_test``) as a parenthesis for prose.

    >>> fmt_trend({"odds_ratio_per_year": 1.15, "odds_ratio_ci_low": 1.13, "odds_ratio_ci_high": 1.18,
    ...            "p_value": 1e-9}).replace(NBSP, " ")
    'oddsratio per år 1,15; 95 % KI 1,13–1,18; p < 0,001'
    """
    ci = fmt_interval(row["odds_ratio_ci_low"], row["odds_ratio_ci_high"], 2)
    return f"oddsratio per år {fmt_num(row['odds_ratio_per_year'], 2)}; {CI_LABEL} {ci}; {fmt_p(row['p_value'])}"
