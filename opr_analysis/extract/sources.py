"""Finding and reading the files of an extract as text cells.

Each table is read into a DataFrame of stripped strings (``""`` for blank),
whatever its format, so that one set of parsers and checks applies to CSV,
Parquet and XLSX alike. Rows that do not have as many fields as the header
are kept aside with their row number so that they can be quarantined.

Hostile input (limits in :mod:`opr_analysis.safety.limits`): an XLSX is
checked for zip-bomb sizes before it is opened; a quoted CSV field that spans
lines in a column whose codebook type does not allow line breaks (anything
but ``string``/``text``; unknown columns may hold them) stops the read with
the physical line numbers, since a stray or unterminated quote would
otherwise merge the following lines into one row; a cell longer than
``MAX_CELL_CHARS`` stops it naming file, row and column. Longer cells than
pyarrow's block are read by the csv module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExtractError
from ..safety.limits import MAX_CELL_CHARS, check_xlsx
from ..safety.nin import mask_nin, may_hold_nin
from .cache import stat_stamp

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
    # The file's stat (device, inode, size, mtime, ctime) before it was read and when (ns), if it did not
    # change while it was read: what lets the cache reuse its SHA-256 (extract/cache.py).
    stat: tuple | None = field(default=None, compare=False)
    read_at: int | None = field(default=None, compare=False)


@dataclass
class RawTable:
    """A table's cells as stripped text, indexed by 1-based data row number."""

    source: SourceFile
    cells: pd.DataFrame
    # Rows whose field count does not match the header: row number -> raw cells.
    ragged: dict[int, list[str]] = field(default_factory=dict)
    header_width: int = 0
    # False only when no cell can hold an identity number (the cheap prefilter found nothing in the file).
    maybe_nin: bool = True

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
        with open(path, "rb") as fh:
            before, read_at = os.fstat(fh.fileno()), time.time_ns()
            data = fh.read()
        after = os.stat(path)
    except OSError as exc:
        raise ExtractError(f"{path.name}: filen kan ikke åpnes ({exc.strerror or type(exc).__name__})") from exc
    source = SourceFile(table=table, path=path, sha256=hashlib.sha256(data).hexdigest(), format=path.suffix[1:])
    stamp = stat_stamp(before)
    if stamp == stat_stamp(after):
        source.stat, source.read_at = stamp, read_at
    try:
        if path.suffix == ".csv":
            raw = _read_csv(data, source)
        elif path.suffix == ".parquet":
            raw = _frame_to_raw(pd.read_parquet(io.BytesIO(data)), source)
        else:
            check_xlsx(data, path.name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's style warnings mean nothing here
                frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
            raw = _frame_to_raw(frame, source)
    except ExtractError:
        raise
    except Exception as exc:  # any parser failure means the file cannot be read as a table
        raise ExtractError(f"{path.name}: filen kan ikke leses som en tabell ({type(exc).__name__}: {exc})") from exc
    _check_header(raw)
    if len(data) > MAX_CELL_CHARS:  # only a file this large can hold a cell this long
        _check_cell_lengths(raw)
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


def _first_line(text: str) -> str:
    """The header line, without copying the rest of the file."""
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _detect_separator(text: str) -> str:
    header = _first_line(text)
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(data: bytes, source: SourceFile) -> RawTable:
    if not data or data.isspace():  # what data.strip() would empty, without copying the file
        raise ExtractError(f"{source.path.name}: filen er tom (ingen overskriftsrad)")
    text = _decode(data, source)
    sep = _detect_separator(text)
    source.separator = sep
    # What Arrow reads: the decoded text as UTF-8 (the file's own bytes, not a copy, when it is UTF-8 already).
    if source.encoding in ("utf-8", "utf-8-sig"):
        utf8 = memoryview(data)[3 if source.encoding == "utf-8-sig" else 0 :]
    else:
        utf8 = memoryview(text.encode("utf-8"))
    columns = _read_csv_fast(utf8, text, sep)
    if columns is not None:
        raw = _arrow_raw(columns, source)
    else:
        frame, ragged = _read_csv_exact(text, sep)
        raw = _raw(frame, source, ragged)
    raw.maybe_nin = may_hold_nin(utf8)  # one pass over the file; no hit: no cell needs the scan
    if '"' in text:  # without quotes no field can span lines
        _check_spanning_records(text, sep, raw.rows_read, source)
    return raw


def _read_csv_fast(utf8: memoryview, text: str, sep: str):
    """pyarrow's reader: the columns as Arrow strings; None when any row is ragged."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = next(csv.reader([_first_line(text).rstrip("\r")], delimiter=sep))
    if len(set(header)) != len(header):
        return None
    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(utf8),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.large_string() for c in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # e.g. a row longer than pyarrow's block (a megabyte cell): read exactly
        return None
    if invalid:
        return None
    return dict(zip(table.column_names, table.columns, strict=True))


def _may_need_trim(column) -> bool:
    """Whether any cell of an Arrow string column may start or end with whitespace.

    Only the first and last byte of each cell are looked at (numpy on the Arrow buffers): a cell
    whose two edge bytes are printable ASCII (``!``-``~``) has nothing to strip, since every
    whitespace character is ASCII up to the space or a multi-byte character (bytes >= 0x80).
    """
    import pyarrow as pa

    for chunk in column.chunks:
        offsets_buf, data_buf = chunk.buffers()[1:3]
        if data_buf is None or not len(chunk):
            continue
        wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
        offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
        offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64)
        data = np.frombuffer(data_buf, dtype=np.uint8)
        filled = offsets[1:] > offsets[:-1]
        for edge in (data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]):
            if ((edge < 0x21) | (edge > 0x7E)).any():
                return True
    return False


def _arrow_raw(columns: dict, source: SourceFile) -> RawTable:
    """Arrow string columns as text cells (stripped as pandas' str.strip strips Arrow strings), no copy to objects."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = [str(c).strip().lstrip("\ufeff").lower() for c in columns]
    cells = {}
    for name, key in zip(names, list(columns), strict=True):
        col = columns.pop(key)
        col = pc.cast(pc.utf8_trim_whitespace(col) if _may_need_trim(col) else col, pa.large_string())
        cells[name] = pd.Series(pd.arrays.ArrowStringArray(col), copy=False)
    frame = pd.DataFrame(cells, copy=False)
    if frame.shape[1] != len(names):  # two header names equal once stripped and lower-cased
        frame = pd.concat(list(cells.values()), axis=1, keys=names)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return RawTable(source=source, cells=frame, ragged={}, header_width=len(names))


def _read_csv_exact(text: str, sep: str):
    """The csv module, record by record: exact row numbers for ragged rows."""
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # cell length is checked afterwards
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


# --- hostile input (see the module docstring) -------------------------------------------------


def _line_break_columns(table: str) -> set[str] | None:
    """Columns of ``table`` whose codebook type forbids line breaks (None: unknown table)."""
    from . import codebook

    spec = codebook.load().tables.get(table)
    if spec is None:
        return None
    return {c.name for c in spec.columns.values() if c.type not in ("string", "text")}


def _check_spanning_records(text: str, sep: str, records: int, source: SourceFile) -> None:
    """Stop when a quoted field spans lines where the codebook allows no line break.

    Cheap unless some record spans lines (physical lines != records + header);
    then the csv module walks the file once with its line counter.
    """
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == records + 1:
        return
    forbidden = _line_break_columns(source.table)
    if forbidden is None:
        return
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = [str(c).strip().lstrip("\ufeff").lower() for c in next(reader, [])]
    end, row = reader.line_num, 0
    for record in reader:
        start, end = end + 1, reader.line_num
        if not record:
            continue
        row += 1
        if end == start:
            continue
        if len(record) == len(header):
            bad = [c for c, v in zip(header, record, strict=True) if c in forbidden and ("\n" in v or "\r" in v)]
            if not bad:
                continue
            why = f"kolonne «{bad[0]}» tillater ikke linjeskift"
        else:
            why = "raden får feil antall felt"
        tail = " (til slutten av filen: anførselstegnet avsluttes aldri)" if _unterminated(text, sep, start) else ""
        raise ExtractError(
            f"{source.path.name}, rad {row}: et felt i anførselstegn går over linjene {start}–{end}{tail}, og "
            f"{why}; linjene ville blitt slått sammen til én rad. Et anførselstegn uten partner? Rett filen og kjør igjen"
        )


def _unterminated(text: str, sep: str, start: int) -> bool:
    """Whether the quoted field opened on physical line ``start`` is never closed."""
    rest = "\n".join(text.split("\n")[start - 1 :])
    try:
        for _ in csv.reader(io.StringIO(rest, newline=""), delimiter=sep, strict=True):
            break  # the first record parsed: its quotes are closed
    except csv.Error as exc:
        return "end of data" in str(exc)  # not "',' expected": that quote was closed, wrongly
    return False


def _check_cell_lengths(raw: RawTable) -> None:
    """Stop at the first cell longer than ``MAX_CELL_CHARS``, naming file, row and column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for col in raw.cells.columns:
        try:  # a cell has at most as many characters as bytes: most columns need no closer look
            longest = pc.max(pc.binary_length(pa.array(raw.cells[col].array).cast(pa.large_binary()))).as_py()
        except (TypeError, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            longest = None
        if longest is not None and longest <= MAX_CELL_CHARS:
            continue
        lengths = raw.cells[col].str.len()
        if len(lengths) and lengths.max() > MAX_CELL_CHARS:
            row = lengths.idxmax()
            raise ExtractError(
                f"{raw.source.path.name}, rad {row}, kolonne «{col}»: cellen har {_n(lengths.max())} tegn, "
                f"mer enn grensen på {_n(MAX_CELL_CHARS)}; kort den ned"
            )


def _n(number) -> str:
    return f"{int(number):,}".replace(",", " ")
