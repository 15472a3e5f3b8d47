"""Detection of Norwegian national identity numbers, however they are written.

One detector guards the input (a hit stops the run), every message the
program prints (hits are masked) and every file it writes (a hit stops the
write). The rules:

- **What counts.** Eleven digits that ``stdnum.no.fodselsnummer`` accepts
  (check digits, a possible birth date, not in the future): fødselsnummer,
  D-number (day + 40) and H-number (month + 40); and synthetic test numbers
  (month + 80, Skatteetaten/Tenor), checked with the same library's check
  digits and birth-date rules after the 80 is taken off. FH-numbers (first
  digit 8 or 9, no birth date) are not detected: without a date part almost
  one in a hundred ordinary eleven-digit numbers would pass.
- **Disguises undone first.** Unicode NFKC (full-width digits become ASCII,
  no-break spaces become spaces), zero-width characters and soft hyphens
  removed; any run of spaces, tabs, dots, slashes or hyphens/dashes between
  the six and the five digits (``010170.12343``, ``010170 - 12343``).
- **The birth date written as a date.** Day, month and year separated by
  dots, slashes, hyphens/dashes or spaces, day and month with one or two
  digits, the year with two or four, in either order (``01.01.70``,
  ``1.1.70``, ``01-01-1970``, ``1970-01-01``), then such a separator run and
  the five personal digits (``01.01.70 12343``, ``1.1.70/12343``). The date
  becomes the six digits; with a four-digit year the number must belong to
  that year (its individual digits give the century), which keeps an ISO date
  followed by an ordinary five-digit number from alarming. The date may not
  continue a longer number or date (``2024-01-01`` is not read as
  ``24-01-01``).
- **Lost leading zero.** A number born on day 01-09 saved as a number (Excel,
  Parquet, a CSV written from a spreadsheet) has ten digits: a standalone
  ten-digit number, also as ``1017012343.0`` or ``1.017012343E+09``, counts
  when the number with its zero restored does.
- **Not people's numbers.** A run of digits inside a machine token (a
  hexadecimal digest, a UUID, a base32/base64 key: 16 or more letters and
  digits with at least three switches between letters and digits) is never a
  hit, and neither is a run inside a longer number or a decimal fraction
  (``0.01017012343``). This keeps SHA-256 digests in manifests from alarming.

Examples
--------
>>> is_valid_nin("12345678901")
False
>>> nin = make_valid_nin("010190")  # built in code, never stored as a literal
>>> find_nins(f"fnr {nin[:6]}\\u00a0{nin[6:]}") == [nin], find_nins(nin[1:] + ".0") == [nin]
(True, True)
>>> mask_nin(f"kolonne {nin}")
'kolonne 01*********'
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import TYPE_CHECKING

from stdnum.exceptions import ValidationError
from stdnum.no import fodselsnummer

if TYPE_CHECKING:  # pandas is imported on use, so that printing a message stays light
    import pandas as pd

# Removed before matching: zero-width space/non-joiner/joiner, word joiner, BOM, soft hyphen, Mongolian separator.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
# Between the six and the five digits (after NFKC): spaces, tabs, dots, slashes, hyphens and dashes, any run.
_SEP = "[ \\t./\\-\u2010-\u2015\u2212]*"
# Between the parts of a written date: one dot, slash, hyphen or dash (spaces around it allowed), or spaces alone.
_DATE_SEP = "(?:[ \\t]*[./\\-\u2010-\u2015\u2212][ \\t]*|[ \\t]+)"
# Not continuing a number or a date: no digit, and no digit and date separator, just before (a comma may
# separate CSV fields, so it does not count).
_FREE = "(?<![0-9])(?<![0-9][./\\-\u2010-\u2015\u2212])"
_DATE_TAIL = "[ \\t./\\-\u2010-\u2015\u2212]+([0-9]{5})(?![0-9]|\\.[0-9])"
# 01.01.70 12343, 1.1.1970/12343 (day, month, year) and 1970-01-01 12343 (year, month, day).
_DMY = re.compile(rf"{_FREE}([0-9]{{1,2}}){_DATE_SEP}([0-9]{{1,2}}){_DATE_SEP}([0-9]{{4}}|[0-9]{{2}}){_DATE_TAIL}")
_YMD = re.compile(rf"{_FREE}([0-9]{{4}}){_DATE_SEP}([0-9]{{1,2}}){_DATE_SEP}([0-9]{{1,2}}){_DATE_TAIL}")
# A dot after a digit starts a decimal fraction; a comma may be a CSV separator, so it does not.
_ELEVEN = re.compile(rf"(?<![0-9])(?<![0-9]\.)([0-9]{{6}}){_SEP}([0-9]{{5}})(?![0-9])")
# Ten digits (a lost leading zero), possibly written as a float; not part of a decimal fraction.
_TEN = re.compile(r"(?<![0-9])(?<![0-9]\.)([1-9][0-9]{9})(?:\.0+)?(?![0-9]|\.[0-9])")
# 1.017012343E+09: the same ten-digit number in scientific notation.
_SCIENTIFIC = re.compile(r"(?<![0-9])(?<![0-9]\.)([1-9])[.,]([0-9]{1,9})0*[eE]\+?0*9(?![0-9])")
# Machine tokens: candidates (16+ letters and digits, or a UUID); see _is_machine_token.
_LONG_TOKEN = re.compile(r"[0-9A-Za-z]{16,}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_SWITCH = re.compile(r"(?<=[0-9])(?=[A-Za-z])|(?<=[A-Za-z])(?=[0-9])")
# The non-ASCII characters that can be part of a hit once `normalise` has run (first and last code point of
# each range): those whose NFKC form holds an ASCII digit, space, tab, «.», «/», «-», «,», «+», «e» or «E» or
# a Unicode dash, and the invisible characters `normalise` removes. Letters such as «æ», «ø» and «å» are not
# among them, so Norwegian text alone does not pass the prefilter. tests/test_nin_disguises.py recomputes the
# ranges from unicodedata over every code point.
NON_ASCII_IN_HITS = (
    (0xA0, 0xA0), (0xA8, 0xA8), (0xAD, 0xAD), (0xAF, 0xAF), (0xB2, 0xB4), (0xB8, 0xB9), (0xBC, 0xBE),
    (0x2D8, 0x2DD), (0x37A, 0x37A), (0x384, 0x385), (0x180E, 0x180E), (0x1D31, 0x1D31), (0x1D49, 0x1D49),
    (0x1FBD, 0x1FBD), (0x1FBF, 0x1FC1), (0x1FCD, 0x1FCF), (0x1FDD, 0x1FDF), (0x1FED, 0x1FEE), (0x1FFD, 0x1FFE),
    (0x2000, 0x200D), (0x2010, 0x2015), (0x2017, 0x2017), (0x2024, 0x2026), (0x202F, 0x202F), (0x203E, 0x203E),
    (0x205F, 0x2060), (0x2070, 0x2070), (0x2074, 0x207B), (0x2080, 0x208B), (0x2091, 0x2091), (0x2100, 0x2101),
    (0x2105, 0x2106), (0x2121, 0x2121), (0x212F, 0x2130), (0x2147, 0x2147), (0x2150, 0x215F), (0x2189, 0x2189),
    (0x2212, 0x2212), (0x2460, 0x249B), (0x24A0, 0x24A0), (0x24BA, 0x24BA), (0x24D4, 0x24D4), (0x24EA, 0x24EA),
    (0x3000, 0x3000), (0x309B, 0x309C), (0x3250, 0x325F), (0x32B1, 0x32CB), (0x32CD, 0x32CE), (0x3358, 0x3370),
    (0x3378, 0x3379), (0x339F, 0x33A6), (0x33A8, 0x33A8), (0x33AF, 0x33AF), (0x33C2, 0x33C2), (0x33C7, 0x33C7),
    (0x33D8, 0x33D8), (0x33E0, 0x33FE), (0xFB29, 0xFB29), (0xFC5E, 0xFC63), (0xFDFA, 0xFDFB), (0xFE10, 0xFE10),
    (0xFE19, 0xFE19), (0xFE30, 0xFE32), (0xFE49, 0xFE4C), (0xFE50, 0xFE50), (0xFE52, 0xFE52), (0xFE58, 0xFE58),
    (0xFE62, 0xFE63), (0xFE70, 0xFE70), (0xFE72, 0xFE72), (0xFE74, 0xFE74), (0xFE76, 0xFE76), (0xFE78, 0xFE78),
    (0xFE7A, 0xFE7A), (0xFE7C, 0xFE7C), (0xFE7E, 0xFE7E), (0xFEFF, 0xFEFF), (0xFF0B, 0xFF19), (0xFF25, 0xFF25),
    (0xFF45, 0xFF45), (0xFFE3, 0xFFE3), (0x1D404, 0x1D404), (0x1D41E, 0x1D41E), (0x1D438, 0x1D438),
    (0x1D452, 0x1D452), (0x1D46C, 0x1D46C), (0x1D486, 0x1D486), (0x1D4D4, 0x1D4D4), (0x1D4EE, 0x1D4EE),
    (0x1D508, 0x1D508), (0x1D522, 0x1D522), (0x1D53C, 0x1D53C), (0x1D556, 0x1D556), (0x1D570, 0x1D570),
    (0x1D58A, 0x1D58A), (0x1D5A4, 0x1D5A4), (0x1D5BE, 0x1D5BE), (0x1D5D8, 0x1D5D8), (0x1D5F2, 0x1D5F2),
    (0x1D60C, 0x1D60C), (0x1D626, 0x1D626), (0x1D640, 0x1D640), (0x1D65A, 0x1D65A), (0x1D674, 0x1D674),
    (0x1D68E, 0x1D68E), (0x1D7CE, 0x1D7FF), (0x1F100, 0x1F10A), (0x1F114, 0x1F114), (0x1F134, 0x1F134),
    (0x1FBF0, 0x1FBF9),
)  # fmt: skip
# The characters themselves in a regex class (RE2 and Python's re both read them literally).
_NON_ASCII_CLASS = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in NON_ASCII_IN_HITS)
# A cheap, lookaround-free test (runs natively on Arrow strings) that every hit passes: ten digits, six and
# five with separators, a written date and five digits, E-notation, or a character of NON_ASCII_IN_HITS (no-break
# spaces, Unicode dashes, wide digits, invisible characters).
PREFILTER = (
    r"[0-9]{10}|[0-9]{6}[ \t./-]+[0-9]{5}|[0-9][ \t./-]+[0-9]{1,2}[ \t./-]+[0-9]{1,4}[ \t./-]+[0-9]{5}"
    rf"|[0-9][.,][0-9]{{1,9}}[eE]|[{_NON_ASCII_CLASS}]"
)


def is_valid_nin(value: str) -> bool:
    """True when ``value`` is 11 digits forming a possible fødselsnummer, D-, H- or synthetic test number."""
    if len(value) != 11 or not value.isdigit():
        return False
    if fodselsnummer.is_valid(value):
        return True
    month = int(value[2:4])
    if month <= 80:
        return False
    # Synthetic test numbers: check digits over the number as written, birth date with the 80 taken off.
    if value[9] != fodselsnummer.calc_check_digit1(value) or value[10] != fodselsnummer.calc_check_digit2(value):
        return False
    try:
        born = fodselsnummer.get_birth_date(f"{value[:2]}{month - 80:02d}{value[4:]}")
    except ValidationError:
        return False
    return born <= datetime.date.today()


def make_valid_nin(birth_date_ddmmyy: str, start: int = 100) -> str:
    """A valid number for a birth date (for tests that plant one); individual numbers from ``start`` up.

    Add 40 to the day for a D-number, 40 or 80 to the month for an H- or synthetic test number.
    """
    for individual in range(start, 1000):
        base = f"{birth_date_ddmmyy}{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(base)
        k2 = fodselsnummer.calc_check_digit2(base + k1)
        if len(k1) == 1 and len(k2) == 1 and is_valid_nin(base + k1 + k2):
            return base + k1 + k2
    raise ValueError(f"no valid number for {birth_date_ddmmyy} from {start}")


def normalise(text: str) -> str:
    """NFKC with invisible characters removed: what a reader of ``text`` sees."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def _is_machine_token(token: str) -> bool:
    return len(_SWITCH.findall(token)) >= 3


def _without_machine_tokens(text: str) -> str:
    """``text`` with UUIDs and machine tokens blanked out (same length, so positions still hold)."""
    text = _UUID.sub(lambda m: "#" * len(m.group()), text)
    return _LONG_TOKEN.sub(lambda m: "#" * len(m.group()) if _is_machine_token(m.group()) else m.group(), text)


def _birth_year(number: str) -> int | None:
    """The birth year of a valid number (synthetic test numbers: with the 80 taken off the month)."""
    month = int(number[2:4])
    if month > 80:
        number = f"{number[:2]}{month - 80:02d}{number[4:]}"
    try:
        return fodselsnummer.get_birth_date(number).year
    except ValidationError:
        return None


def _dated(day: str, month: str, year: str, personal: str) -> str | None:
    """The number a written date and five digits stand for, when it is valid (a four-digit year must agree)."""
    number = f"{int(day):02d}{int(month):02d}{year[-2:]}{personal}"
    if len(number) != 11 or not is_valid_nin(number):
        return None
    return number if len(year) == 2 or _birth_year(number) == int(year) else None


def _hits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, number) of every hit in normalised ``text``."""
    clean = _without_machine_tokens(text)
    found = []
    for m in _ELEVEN.finditer(clean):
        number = m.group(1) + m.group(2)
        if is_valid_nin(number):
            found.append((m.start(), m.end(), number))
    for m in _TEN.finditer(clean):
        if is_valid_nin("0" + m.group(1)):
            found.append((m.start(), m.end(), "0" + m.group(1)))
    for m in _SCIENTIFIC.finditer(clean):
        number = "0" + m.group(1) + m.group(2).ljust(9, "0")
        if is_valid_nin(number):
            found.append((m.start(), m.end(), number))
    for pattern, order in ((_DMY, (1, 2, 3)), (_YMD, (3, 2, 1))):
        for m in pattern.finditer(clean):
            day, month, year = (m.group(i) for i in order)
            number = _dated(day, month, year, m.group(4))
            if number:
                found.append((m.start(), m.end(), number))
    return sorted(found)


def find_nins(text: str) -> list[str]:
    """Every identity number inside a piece of text (as 11 digits), disguises undone."""
    return [number for _, _, number in _hits(normalise(text))]


def may_hold_nin(data: str | bytes | memoryview) -> bool:
    """False only when no part of ``data`` can hold an identity number: :data:`PREFILTER` finds nothing.

    Every hit passes the prefilter, and a cell, line or value of a file is a part of its text, so a
    whole file that fails it is clean without a closer look. Runs natively (RE2 through Arrow) on
    the UTF-8 bytes, without copying them when given bytes: about 1 s for a 120 MB file, where
    :func:`has_nin` takes about 20 s.

    >>> may_hold_nin("id,dato\\n7,2024-01-31\\n"), may_hold_nin("telefon\\n1234567890\\n")
    (False, True)
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = data.encode("utf-8") if isinstance(data, str) else data
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    # UTF-8 mode (a string array): as binary, RE2 would read the bytes as Latin-1 and the class of
    # NON_ASCII_IN_HITS would match parts of «å». Bytes are not validated; RE2 skips invalid sequences.
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])  # no copy
    return bool(pc.match_substring_regex(whole, PREFILTER)[0].as_py())


#: Texts longer than this are searched line by line, and only the lines that pass the prefilter.
LINEWISE_FROM = 10_000


def has_nin(text: str) -> bool:
    """True when ``text`` holds an identity number in any of the forms this module knows.

    A long text (a report page, a notebook, a CSV file) is searched line by line, and only in the lines
    that pass :data:`PREFILTER`: a hit never spans a line break (no separator of a form is one, and no
    character's NFKC form holds one), and the patterns' look-arounds see a line break as they see the
    start or end of a text. Lines of image data and of Norwegian text without numbers are skipped.
    """
    if len(text) > LINEWISE_FROM and "\n" in text:
        return any(find_nins(line) for line in _lines_passing_prefilter(text))
    return bool(find_nins(text))


def _lines_passing_prefilter(text: str) -> list[str]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = text.split("\n")
    passed = pc.match_substring_regex(pa.array(lines, type=pa.large_string()), PREFILTER)
    return [lines[i] for i in np.flatnonzero(passed.to_numpy(zero_copy_only=False))]


def nin_cells(s: pd.Series) -> pd.Series:
    """Boolean mask of the cells of a Series that hold an identity number (any form)."""
    import pandas as pd

    s = s.astype("string")
    candidates = s.str.contains(PREFILTER, regex=True, na=False).fillna(False).astype(bool)
    mask = pd.Series(False, index=s.index)
    if candidates.any():
        mask[candidates] = s[candidates].map(has_nin).astype(bool)
    return mask


def nin_number_cells(s: pd.Series) -> pd.Series:
    """Kept for callers of the earlier API: :func:`nin_cells` now finds lost leading zeros too."""
    return nin_cells(s)


def mask_nin(value: str) -> str:
    """``value`` with every identity number replaced by its first two digits and ``*``.

    A value without one is returned unchanged; one with a hit is returned
    normalised (NFKC, invisible characters removed) with the hits masked, so a
    message stays readable but never repeats a number.
    """
    text = normalise(str(value))
    hits = _hits(text)
    if not hits:
        return str(value)
    out, pos = [], 0
    for start, end, number in hits:
        if start < pos:  # overlapping forms of one number
            continue
        out += [text[pos:start], number[:2] + "*" * 9]
        pos = end
    return "".join(out) + text[pos:]
