"""Detection of Norwegian national identity numbers (fødselsnummer, D-nummer).

An extract must never hold one: the registry's ids are pseudonymous. Any run of
eleven digits (optionally written ``DDMMYY NNNNN``) whose two modulus-11 check
digits are valid counts as one; the check digits keep ordinary long numbers
from raising false alarms.

Examples
--------
>>> is_valid_nin("12345678901")
False
>>> nin = make_valid_nin("010190")  # built in code, never stored as a literal
>>> is_valid_nin(nin), len(nin)
(True, 11)
"""

from __future__ import annotations

import re

import pandas as pd

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# Eleven digits, or six and five separated by one space, not inside a longer number.
NIN_PATTERN = r"(?<![0-9])([0-9]{6}) ?([0-9]{5})(?![0-9])"
_NIN_RE = re.compile(NIN_PATTERN)
_PREFILTER = r"[0-9]{6} ?[0-9]{5}"


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    rest = sum(int(d) * w for d, w in zip(digits, weights)) % 11
    k = 0 if rest == 0 else 11 - rest
    return None if k == 10 else k


def is_valid_nin(value: str) -> bool:
    """True when ``value`` is 11 digits with valid modulus-11 check digits."""
    if len(value) != 11 or not value.isdigit():
        return False
    return _check_digit(value[:9], _W1) == int(value[9]) and _check_digit(value[:10], _W2) == int(value[10])


def make_valid_nin(birth_date_ddmmyy: str, start: int = 100) -> str:
    """A number with valid check digits for a birth date (for tests that plant one).

    Individual numbers from ``start`` upwards are tried until both check digits exist.
    """
    for individual in range(start, 1000):
        base = f"{birth_date_ddmmyy}{individual:03d}"
        k1 = _check_digit(base, _W1)
        k2 = None if k1 is None else _check_digit(base + str(k1), _W2)
        if k1 is not None and k2 is not None:
            return f"{base}{k1}{k2}"
    raise ValueError(f"no valid number for {birth_date_ddmmyy} from {start}")


def find_nins(text: str) -> list[str]:
    """Every valid national identity number inside a piece of text."""
    return [a + b for a, b in _NIN_RE.findall(text) if is_valid_nin(a + b)]


def nin_cells(s: pd.Series) -> pd.Series:
    """Boolean mask of the cells of a string Series that hold a valid number."""
    s = s.astype("string")
    # A lookaround-free prefilter runs natively on Arrow strings; the exact pattern runs on hits only.
    candidates = s.str.contains(_PREFILTER, regex=True, na=False).fillna(False).astype(bool)
    mask = pd.Series(False, index=s.index)
    if candidates.any():
        mask[candidates] = s[candidates].map(lambda v: bool(find_nins(v)))
    return mask


def nin_number_cells(s: pd.Series) -> pd.Series:
    """Cells holding a number that is a valid identity number once its lost leading zero is restored.

    Excel and Parquet store a number born on days 01-09 as a 10-digit number
    (the leading zero is gone); use this on cells that came from numeric cells.
    """
    s = s.astype("string")
    ten = s.str.fullmatch(r"[1-9][0-9]{9}").fillna(False).astype(bool)
    mask = pd.Series(False, index=s.index)
    if ten.any():
        mask[ten] = s[ten].map(lambda v: is_valid_nin("0" + v))
    return mask


def mask_nin(value: str) -> str:
    """Hide all but the first two digits, so a message never repeats the number."""
    return _NIN_RE.sub(lambda m: (m.group(1) + m.group(2))[:2] + "*" * 9, value)
