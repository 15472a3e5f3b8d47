"""The serial numbers a manufacturer's field safety notice lists, read from the file the clinic got.

A notice's list arrives in one of three shapes, and each is read as it comes:

- **one serial number per line** (a text file, or a CSV of one column), with or without a header
  line such as ``Serial number`` or ``Serienummer``;
- **a CSV of several columns** (separator ``;``, ``,`` or tab, detected from the header line):
  the serial numbers are the column whose header names them (:data:`SERIAL_HEADERS`, compared by
  the matching rule), or the one given with ``--serial-column``;
- **a workbook** (``.xlsx``, first sheet), the same way as a CSV.

Text is UTF-8 with or without a byte-order mark, or Windows-1252 when it is not UTF-8;
line ends may be CRLF. Blank lines and cells are skipped; values are kept as written (the
matching rule, :mod:`.matching`, trims and folds them when they are compared), and a value
listed twice counts once. Nothing is guessed beyond this: a file with several columns and no
recognisable serial-number column is refused with the columns it has.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "varsel.csv"
>>> _ = p.write_bytes("\\ufeffModel;Serial number;Lot\\r\\nVega P;NSM100;A1\\r\\nVega P; nsm101 ;A1\\r\\n".encode())
>>> read_serials(p)
['NSM100', ' nsm101 ']
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import UsageError
from .matching import normalise_text, text_problem

__all__ = ["SERIAL_HEADERS", "MAX_NOTICE_BYTES", "read_serials"]

#: Header names of a serial-number column (compared after trimming, NFKC and case folding).
SERIAL_HEADERS = (
    "serial", "serial number", "serial_number", "serial no", "serial no.", "serialnumber", "sn", "s/n",
    "serienummer", "serienr", "serienr.", "serie", "serial_no",
)  # fmt: skip
MAX_NOTICE_BYTES = 50 * 1024**2  # a notice lists thousands of devices at most; this is far above


def read_serials(path: str | Path, column: str | None = None) -> list[str]:
    """The serial numbers listed in the notice file ``path`` (module docstring), in file order.

    ``column`` names the serial-number column of a file with several columns. Raises
    :class:`UsageError` (naming the file) when the file cannot be read or holds no serial number.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"fant ikke filen med serienumre «{path}»")
    if path.stat().st_size > MAX_NOTICE_BYTES:
        raise UsageError(f"{path.name}: filen er større enn {MAX_NOTICE_BYTES // 1024**2} MB; er det riktig fil?")
    rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _text_rows(path)
    rows = [[("" if c is None else str(c)) for c in r] for r in rows]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise UsageError(f"{path.name}: filen har ingen serienumre")
    values = _serial_column(rows, column, path.name)
    values = [v for v in values if v.strip()]
    if not values:
        raise UsageError(f"{path.name}: filen har ingen serienumre")
    for value in values:  # a value no label holds: the wrong file, or a column of something else
        problem = text_problem(value)
        if problem:
            raise UsageError(f"{path.name}: en verdi i serienummerlisten {problem}; er det riktig fil og kolonne?")
    return list(dict.fromkeys(values))


def _text_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    counts = {sep: first.count(sep) for sep in (";", "\t", ",")}
    sep = max(counts, key=lambda s: counts[s])
    if counts[sep] == 0:  # one value per line: no splitting (a serial number may hold any character)
        return [[line] for line in lines]
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))


def _xlsx_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook

    from ..errors import ExtractError
    from ..safety.limits import check_xlsx

    data = path.read_bytes()
    try:
        check_xlsx(data, path.name)  # a zip bomb is refused before anything is decompressed
    except ExtractError as exc:
        raise UsageError(str(exc)) from None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or mislabelled file
        raise UsageError(f"{path.name}: kunne ikke lese arbeidsboken ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        return [[_cell_text(c) for c in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _cell_text(value) -> str:
    """A workbook cell as the text a person reads (a whole number stored as a float loses its ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _serial_column(rows: list[list[str]], column: str | None, name: str) -> list[str]:
    header = [normalise_text(c) or "" for c in rows[0]]
    if column is not None:
        wanted = normalise_text(column)
        if wanted not in header:
            shown = ", ".join(f"«{c.strip()}»" for c in rows[0])
            raise UsageError(f"{name}: finner ikke kolonnen «{column}» i overskriftsraden ({shown})")
        at = header.index(wanted)
        return [r[at] if at < len(r) else "" for r in rows[1:]]
    known = [i for i, h in enumerate(header) if h in SERIAL_HEADERS]
    if len(known) == 1:
        return [r[known[0]] if known[0] < len(r) else "" for r in rows[1:]]
    if max(len(r) for r in rows) == 1:  # one column; a header line is skipped when it names the column
        values = [r[0] for r in rows]
        return values[1:] if header[0] in SERIAL_HEADERS else values
    shown = ", ".join(f"«{c.strip()}»" for c in rows[0])
    why = "flere kolonner kan være serienummer" if known else "ingen kolonne heter serienummer"
    raise UsageError(f"{name}: filen har flere kolonner ({shown}) og {why}; oppgi kolonnen med --serial-column NAVN")
