"""Finding and reading the files of an extract as text cells.

Each table is read into a DataFrame of stripped strings (``""`` for blank),
whatever its format, so that one set of parsers and checks applies to CSV,
Parquet and XLSX alike. Rows that do not have as many fields as the header
are kept aside with their row number so that they can be quarantined.
"""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExtractError
from ..safety.nin import mask_nin

FORMATS = (".csv", ".parquet", ".xlsx")


@dataclass
class SourceFile:
    """One table's file as read: where it is, what it held and how it was decoded."""

    table: str
    path: Path
    sha256: str
    format: str
    encoding: str | None = None
    separator: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RawTable:
    """A table's cells as stripped text, indexed by 1-based data row number."""

    source: SourceFile
    cells: pd.DataFrame
    # Rows whose field count does not match the header: row number -> raw cells.
    ragged: dict[int, list[str]] = field(default_factory=dict)
    header_width: int = 0

    @property
    def rows_read(self) -> int:
        return len(self.cells) + len(self.ragged)


def find_table_file(folder: Path, table: str) -> Path | None:
    """The one file holding ``table``; two files for one table is an error."""
    found = [folder / f"{table}{ext}" for ext in FORMATS if (folder / f"{table}{ext}").is_file()]
    if len(found) > 1:
        names = " og ".join(p.name for p in found)
        raise ExtractError(f"tabellen «{table}» finnes i flere filer ({names}); behold bare én")
    return found[0] if found else None


def read_table(path: Path, table: str) -> RawTable:
    """Read one table file into text cells."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"{path.name}: filen kan ikke åpnes ({exc.strerror or type(exc).__name__})") from exc
    source = SourceFile(table=table, path=path, sha256=hashlib.sha256(data).hexdigest(), format=path.suffix[1:])
    try:
        if path.suffix == ".csv":
            raw = _read_csv(data, source)
        elif path.suffix == ".parquet":
            raw = _frame_to_raw(pd.read_parquet(io.BytesIO(data)), source)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's style warnings mean nothing here
                frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
            raw = _frame_to_raw(frame, source)
    except ExtractError:
        raise
    except Exception as exc:  # any parser failure means the file cannot be read as a table
        raise ExtractError(f"{path.name}: filen kan ikke leses som en tabell ({type(exc).__name__}: {exc})") from exc
    _check_header(raw)
    return raw


def _decode(data: bytes, source: SourceFile) -> str:
    """UTF-8 (BOM or not); else UTF-16 with a BOM or Windows-1252, with a note; never mojibake."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExtractError(
                f"{source.path.name}: filen ser ut som UTF-16, men kan ikke leses som det; lagre den som UTF-8"
            ) from exc
        source.encoding = "utf-16"
        source.notes.append("filen var UTF-16 og ble lest som det; lagre den helst som UTF-8")
        return text
    if b"\x00" in data[:4096]:
        raise ExtractError(
            f"{source.path.name}: filen inneholder null-byte og ser ut som UTF-16 uten byte-rekkefølgemerke "
            "eller en binærfil; lagre den som UTF-8"
        )
    try:
        text = data.decode("utf-8-sig")
        source.encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        return text
    except UnicodeDecodeError as exc:
        # Excel on Windows saves "CSV" as Windows-1252; decode it rather than produce mojibake.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ExtractError(
                f"{source.path.name}: filen er verken UTF-8 eller Windows-1252 "
                f"(ugyldig byte ved posisjon {exc.start}); lagre den som UTF-8"
            ) from exc
        source.encoding = "cp1252"
        source.notes.append("filen var ikke UTF-8 og ble lest som Windows-1252 (Latin-1); lagre den som UTF-8")
        return text


def _detect_separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(data: bytes, source: SourceFile) -> RawTable:
    if not data.strip():
        raise ExtractError(f"{source.path.name}: filen er tom (ingen overskriftsrad)")
    text = _decode(data, source)
    sep = _detect_separator(text)
    source.separator = sep
    frame, ragged = _read_csv_fast(text, sep)
    if frame is None:
        frame, ragged = _read_csv_exact(text, sep)
    return _raw(frame, source, ragged)


def _read_csv_fast(text: str, sep: str):
    """pyarrow's reader; gives up (returns None) when any row is ragged."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=sep))
    if len(set(header)) != len(header):
        return None, {}
    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if invalid:
        return None, {}
    return table.to_pandas(), {}


def _read_csv_exact(text: str, sep: str):
    """The csv module, record by record: exact row numbers for ragged rows."""
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep) if r]
    header, rows = records[0], records[1:]
    width = len(header)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    good = np.flatnonzero(lengths == width)
    ragged = {int(i) + 1: rows[i] for i in np.flatnonzero(lengths != width)}
    frame = pd.DataFrame([rows[i] for i in good], columns=header, dtype="string")
    frame.index = good + 1
    return frame, ragged


def _raw(frame: pd.DataFrame, source: SourceFile, ragged: dict[int, list[str]]) -> RawTable:
    width = frame.shape[1]
    frame.columns = [str(c).strip().lstrip("\ufeff").lower() for c in frame.columns]
    if not ragged:  # otherwise the exact reader has already numbered the rows
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    frame.index.name = "row"
    frame = frame.astype("string").fillna("").apply(lambda s: s.str.strip())
    return RawTable(source=source, cells=frame, ragged=ragged, header_width=width)


def _cell_text(value) -> str:
    """One Parquet/XLSX cell as the text a CSV would have held."""
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else (str(int(value)) if float(value).is_integer() else repr(float(value)))
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return _timestamps_text(pd.Series([value])).iloc[0]
    if hasattr(value, "isoformat"):  # datetime.date / datetime.datetime
        return value.isoformat()
    return str(value)


def _timestamps_text(s: pd.Series) -> pd.Series:
    """Midnight as a date, anything else as an ISO datetime (with its offset if any)."""
    tz = s.dt.tz is not None
    full = s.dt.strftime("%Y-%m-%dT%H:%M:%S%z" if tz else "%Y-%m-%dT%H:%M:%S")
    local = s.dt.tz_localize(None) if tz else s
    out = full.where(local != local.dt.normalize(), s.dt.strftime("%Y-%m-%d"))
    return out.fillna("")


def _column_text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        return _timestamps_text(s)
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype(object).fillna("")
    if pd.api.types.is_integer_dtype(s):
        return s.astype("string").fillna("")
    return s.astype(object).map(_cell_text)


def _frame_to_raw(frame: pd.DataFrame, source: SourceFile) -> RawTable:
    frame = pd.DataFrame({col: _column_text(frame[col]) for col in frame.columns}).reset_index(drop=True)
    return _raw(frame, source, {})


def _check_header(raw: RawTable) -> None:
    cols = list(raw.cells.columns)
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        # The header is echoed masked: a column name may be an identity number.
        raise ExtractError(f"{raw.source.path.name}: kolonnen «{mask_nin(dupes[0])}» står flere ganger i overskriften")
